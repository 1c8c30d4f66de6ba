"""Opaque cursors for keyset pagination (the last key seen, base64url-encoded JSON)."""

from __future__ import annotations

import base64
import binascii
import json

from api.http.problems import ProblemError

__all__ = ["decode_cursor", "decode_id_cursor", "encode_cursor"]

_MAX_ID = 2**63 - 1


def encode_cursor(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ProblemError(
            400, "Bad cursor", "the cursor is not one this API issued; restart from the first page"
        ) from e
    if not isinstance(after, str):
        raise ProblemError(
            400, "Bad cursor", "the cursor is malformed; restart from the first page"
        )
    return after


def decode_id_cursor(cursor: str | None) -> int | None:
    """A cursor over a 64-bit row id (what the list endpoints page by)."""
    after = decode_cursor(cursor)
    if after is None:
        return None
    if not (after.isascii() and after.isdigit()) or not 0 <= int(after) <= _MAX_ID:
        raise ProblemError(
            400, "Bad cursor", "the cursor is malformed; restart from the first page"
        )
    return int(after)
