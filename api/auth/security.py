"""Password hashing (scrypt, stdlib), API keys and signed access tokens (PyJWT, HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from api.auth.models import Role

__all__ = [
    "Principal",
    "decode_token",
    "hash_api_key",
    "hash_password",
    "issue_token",
    "new_api_key",
    "verify_password",
]

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB, tens of milliseconds per check
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or an API key, with role and jurisdictions (officers' scope)."""

    name: str
    role: Role
    jurisdictions: tuple[str, ...] = ()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(got, base64.b64decode(digest))


def new_api_key() -> tuple[str, str]:
    """A fresh key ``np_<prefix>_<secret>`` and its lookup prefix (shown once, never stored)."""
    prefix = secrets.token_hex(4)
    return f"np_{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_api_key(key: str) -> str:
    """Keys carry 256 random bits: a plain SHA-256 is enough (no slow KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(principal: Principal, *, secret: str, ttl_s: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": principal.name,
        "role": principal.role.value,
        "jur": list(principal.jurisdictions),
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_token(token: str, *, secret: str) -> Principal:
    """Raises ``jwt.InvalidTokenError`` (expired, tampered, malformed)."""
    claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
    return Principal(str(claims["sub"]), Role(claims["role"]), tuple(claims.get("jur", [])))
