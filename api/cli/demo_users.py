"""Demo accounts, one per role, with passwords kept in the data directory (local trial only)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import upsert_user

DEMO_OFFICER_JURISDICTION = "ILL-06"


def ensure_demo_users(engine: Engine, credentials: Path) -> dict[str, str]:
    """Users admin/dispatcher/officer/planner; passwords generated once, reused on re-runs."""
    known: dict[str, str] = json.loads(credentials.read_text()) if credentials.exists() else {}
    for role in Role:
        password = known.get(role.value) or secrets.token_urlsafe(9)
        jurisdictions = [DEMO_OFFICER_JURISDICTION] if role is Role.OFFICER else []
        upsert_user(
            engine,
            username=role.value,
            password=password,
            role=role,
            jurisdictions=jurisdictions,
            actor="demo",
        )
        known[role.value] = password
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(json.dumps(known, indent=2))
    credentials.chmod(0o600)
    return known
