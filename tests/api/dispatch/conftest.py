"""Dispatch fixtures: the shared per-module database and tickets whose events fill the outbox."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning

from api.tickets import service as tickets
from api.tickets.categories import load_category_table
from api.tickets.locate import Location
from api.tickets.models import TicketSource
from missions.storage import session_scope

from ..clues.conftest import LAT0, LON0, engine, module_engine

with warnings.catch_warnings():
    # starlette ≥ 1.10 asks for the httpx2 package in its TestClient and warns once, at import,
    # when it falls back to httpx (which works); the project pins httpx, so we accept it here
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "engine", "make_tickets", "module_engine"]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def make_tickets(engine: Engine, n: int, jurisdiction: str | None = "J-W") -> list[int]:
    """``n`` tickets (one ``ticket.created`` event each) in one transaction."""
    category = load_category_table().get("general_report")
    now = datetime.now(UTC)
    specs = [
        tickets.TicketSpec(
            source=TicketSource.OPEN311,
            category=category,
            lon=LON0 + i * 1e-4,
            lat=LAT0,
            location=Location(None, jurisdiction),
            description=f"report {i}",
        )
        for i in range(n)
    ]
    with session_scope(engine) as s:
        return [r.id for r in tickets.create_tickets(s, specs=specs, actor="test", now=now)]
