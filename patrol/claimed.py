"""Flying the stored schedule from several controller processes: claim, fly, record the end.

Each controller (one per host, or one per group of nests) repeatedly claims the sorties due by
now (:func:`missions.storage.claims.claim_due_sorties`: ``SKIP LOCKED`` on PostgreSQL), flies
what it got with its :class:`~patrol.controller.PatrolController`, and marks each one ``flown``
or ``failed``, so no sortie is flown twice and none is lost when a controller dies (its stale
claims are taken over).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from missions.storage.claims import SortieState, claim_due_sorties, finish_sortie
from missions.storage.sorties import load_sortie
from patrol.adapters.base import FlightOutcome
from patrol.controller import ControllerReport, PatrolController

__all__ = ["fly_claimed"]


def fly_claimed(
    engine: Engine,
    controller: PatrolController,
    *,
    worker_id: str,
    now: datetime,
    limit: int = 50,
    stale_after_s: float | None = 3 * 3600.0,
) -> ControllerReport:
    """Claim the sorties due by ``now``, fly them, and record how each ended."""
    ids = claim_due_sorties(
        engine, now=now, worker_id=worker_id, limit=limit, stale_after_s=stale_after_s
    )
    sorties = [load_sortie(engine, i) for i in ids]
    report = controller.run(sorties)
    flown = {f.sortie_id for f in report.flights if f.outcome is not FlightOutcome.NOT_LAUNCHED}
    for sortie_id in ids:
        state = SortieState.FLOWN if sortie_id in flown else SortieState.FAILED
        finish_sortie(engine, sortie_id=sortie_id, worker_id=worker_id, state=state)
    return report
