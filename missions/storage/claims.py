"""Claims on stored sorties: each due sortie is flown by one patrol controller only.

Several controller processes may run the same schedule (for availability, or one per group of
nests). A controller calls :func:`claim_due_sorties` and flies only what it got back; the claim is
made in one short transaction:

* PostgreSQL: the due rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked
  claimed in the same transaction, so concurrent controllers never wait on each other and never
  receive the same sortie;
* SQLite: one ``UPDATE … WHERE state = 'planned' AND sortie_id IN (SELECT … LIMIT n)
  RETURNING`` statement, which holds the database's write lock for the whole claim.

A controller that dies leaves its sorties ``claimed``; with ``stale_after_s`` another controller
takes over claims older than that. A claimed sortie ends ``flown`` or ``failed``
(:func:`finish_sortie`), or goes back to ``planned`` (:func:`release_sortie`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Engine, String, and_, column, or_, select, table, update
from sqlalchemy.orm import Session

from missions.errors import StorageError
from missions.storage.types import UtcDateTime

__all__ = ["SortieState", "claim_due_sorties", "finish_sortie", "release_sortie"]


class SortieState(StrEnum):
    PLANNED = "planned"
    CLAIMED = "claimed"
    FLOWN = "flown"
    FAILED = "failed"


# the claim columns of the sorties table (migration 0008), without loading the ORM row
_sorties = table(
    "sorties",
    column("sortie_id", String(64)),
    column("planned_start", UtcDateTime()),
    column("state", String(16)),
    column("claimed_by", String(128)),
    column("claimed_at", UtcDateTime()),
)
_c = _sorties.c


def _due(now: datetime, stale_after_s: float | None) -> ColumnElement[bool]:
    claimable = _c.state == SortieState.PLANNED.value
    if stale_after_s is not None:
        stale = and_(
            _c.state == SortieState.CLAIMED.value,
            _c.claimed_at < now - timedelta(seconds=stale_after_s),
        )
        claimable = or_(claimable, stale)
    return and_(_c.planned_start.is_not(None), _c.planned_start <= now, claimable)


def claim_due_sorties(
    engine: Engine,
    *,
    now: datetime,
    worker_id: str,
    limit: int,
    stale_after_s: float | None = None,
) -> list[str]:
    """Claim up to ``limit`` sorties due by ``now`` for ``worker_id``; their ids, earliest first.

    Safe with any number of controllers at once: no sortie is returned to two of them. With
    ``stale_after_s``, claims older than that (a controller that died) are taken over too.
    """
    if limit < 1:
        raise StorageError(f"limit={limit}: claim at least one sortie")
    if not worker_id:
        raise StorageError("worker_id is empty; name the controller (e.g. host:pid)")
    due = _due(now, stale_after_s)
    pick = select(_c.sortie_id).where(due).order_by(_c.planned_start, _c.sortie_id).limit(limit)
    claim = {"state": SortieState.CLAIMED.value, "claimed_by": worker_id, "claimed_at": now}
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":
            ids = list(session.scalars(pick.with_for_update(skip_locked=True)))
            if not ids:
                return []
            stmt = update(_sorties).where(due, _c.sortie_id.in_(ids))
        else:
            stmt = update(_sorties).where(due, _c.sortie_id.in_(pick.scalar_subquery()))
        rows = session.execute(stmt.values(**claim).returning(_c.sortie_id, _c.planned_start))
        claimed = sorted((start, sortie_id) for sortie_id, start in rows)
    return [sortie_id for _start, sortie_id in claimed]


def _move(engine: Engine, sortie_id: str, worker_id: str, values: dict[str, object]) -> None:
    mine = and_(
        _c.sortie_id == sortie_id,
        _c.state == SortieState.CLAIMED.value,
        _c.claimed_by == worker_id,
    )
    with engine.begin() as conn:
        moved = conn.execute(update(_sorties).where(mine).values(**values)).rowcount
    if moved != 1:
        raise StorageError(
            f"sortie {sortie_id!r} is not claimed by {worker_id!r} (another controller took it "
            "over, or it was re-planned); claim it again with claim_due_sorties"
        )


def finish_sortie(engine: Engine, *, sortie_id: str, worker_id: str, state: SortieState) -> None:
    """Record how a claimed sortie ended (``flown`` or ``failed``); only its claimant may."""
    if state not in (SortieState.FLOWN, SortieState.FAILED):
        raise StorageError(f"state {state.value!r}: a sortie finishes as 'flown' or 'failed'")
    _move(engine, sortie_id, worker_id, {"state": state.value})


def release_sortie(engine: Engine, *, sortie_id: str, worker_id: str) -> None:
    """Give a claimed sortie back (e.g. the nest is down) so another controller may fly it."""
    values: dict[str, object] = {
        "state": SortieState.PLANNED.value,
        "claimed_by": None,
        "claimed_at": None,
    }
    _move(engine, sortie_id, worker_id, values)
