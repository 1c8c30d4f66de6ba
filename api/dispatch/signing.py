"""Standard Webhooks signatures (symmetric ``v1``: HMAC-SHA256), sending and verifying.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the secret is shown as
``whsec_`` + base64 of 24–64 random bytes; the header holds space-separated ``v1,<base64>``
signatures so a secret can be rotated without downtime. See https://www.standardwebhooks.com/.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from api.errors import DeliveryConfigError, SignatureError

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SECRET_PREFIX",
    "decode_secret",
    "new_secret",
    "sign",
    "signed_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


def new_secret(n_bytes: int = 32) -> str:
    """A fresh ``whsec_`` secret (32 random bytes unless told otherwise)."""
    if not 24 <= n_bytes <= 64:
        raise DeliveryConfigError(f"secret of {n_bytes} bytes: Standard Webhooks needs 24..64")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode()


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; refuses malformed or short secrets."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise DeliveryConfigError(
            "the webhook secret is not base64 after 'whsec_'; generate one with "
            "`nestpatrol endpoints set --new-secret`"
        ) from e
    if len(key) < 24:
        raise DeliveryConfigError(
            f"the webhook secret has {len(key)} bytes; Standard Webhooks needs at least 24"
        )
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``v1,<base64>`` signature of one message."""
    if "." in msg_id:
        raise DeliveryConfigError(f"message id {msg_id!r} contains '.', which the scheme forbids")
    content = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(decode_secret(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str, msg_id: str, body: str, *, now: datetime | None = None
) -> dict[str, str]:
    """The three ``webhook-*`` headers plus the JSON content type, timestamp = now."""
    timestamp = int((now or datetime.now(UTC)).timestamp())
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: str,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: datetime | None = None,
) -> str:
    """Check headers and body; returns the ``webhook-id`` or raises :class:`SignatureError`."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    given = lower.get("webhook-signature")
    if not (msg_id and stamp and given):
        raise SignatureError(
            "missing webhook-id, webhook-timestamp or webhook-signature header; "
            "send all three (Standard Webhooks)"
        )
    try:
        timestamp = int(stamp)
    except ValueError as e:
        raise SignatureError(f"webhook-timestamp {stamp!r} is not integer Unix seconds") from e
    skew = abs((now or datetime.now(UTC)).timestamp() - timestamp)
    if skew > tolerance_s:
        raise SignatureError(
            f"webhook-timestamp is {skew:.0f} s away from our clock (tolerance {tolerance_s} s); "
            "sign with the current time and check the sender's clock"
        )
    expected = sign(secret, msg_id, timestamp, body).encode()
    for candidate in given.split(" "):
        if hmac.compare_digest(candidate.encode(), expected):
            return msg_id
    raise SignatureError(
        "no webhook-signature matches the body; sign '{id}.{timestamp}.{raw body}' with the "
        "endpoint's whsec_ secret and send the raw body unchanged"
    )
