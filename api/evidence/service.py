"""Which evidence crops a caller may see, and where their bytes live.

A crop is known when a clue sighting cites its hash. Officers see only crops of clues that became
tickets in their jurisdictions: the restriction is part of the SQL query, so an officer cannot
tell a crop of another jurisdiction from one that does not exist. Everyone else who may read
tickets (dispatchers, planners, admins) sees every known crop.

The file name is derived from the hash alone (``evidence/ab/ab…ef.jpg``, as
:func:`api.clues.evidence.store_crop` writes it), never from a stored path, and the hash is
checked to be 64 lowercase hex digits first: nothing a caller sends can name another file.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.models import Role
from api.auth.security import Principal
from api.clues.models import SightingRow
from api.tickets.models import TicketRow

__all__ = ["EVIDENCE_SUBDIR", "SHA256_PATTERN", "crop_file", "visible_crop"]

#: the evidence directory inside the data directory (where `nestpatrol clues ingest` stores crops)
EVIDENCE_SUBDIR = "evidence"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)


def visible_crop(session: Session, *, sha256: str, principal: Principal) -> bool:
    """Whether a sighting cites the crop ``sha256`` and ``principal`` may see it."""
    query = select(SightingRow.id).where(SightingRow.crop_sha256 == sha256)
    if principal.role is Role.OFFICER:
        query = query.join(TicketRow, TicketRow.clue_id == SightingRow.clue_id).where(
            TicketRow.jurisdiction.in_(list(principal.jurisdictions))
        )
    return session.scalars(query.limit(1)).first() is not None


def crop_file(data_dir: Path, sha256: str) -> Path:
    """Where the crop with this hash is stored under ``data_dir``; refuses anything but a hash."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"{sha256!r} is not a SHA-256 in lowercase hex (64 characters 0-9a-f)")
    return data_dir / EVIDENCE_SUBDIR / sha256[:2] / f"{sha256}.jpg"
