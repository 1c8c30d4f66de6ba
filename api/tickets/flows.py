"""Clues → tickets in one transaction per batch; the hard-negative list of rejected tickets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.clues.models import ClueRow, ClueStatus, SightingRow
from api.tickets.categories import CategoryTable, load_category_table
from api.tickets.locate import Locator
from api.tickets.models import TicketRow, TicketSource
from api.tickets.service import TicketSpec, create_tickets
from api.tickets.workflow import TicketStatus
from missions.storage import session_scope

__all__ = ["TicketConfig", "hard_negatives", "promote_clues"]


@dataclass(frozen=True)
class TicketConfig:
    """Which clues become tickets and under which city's category codes."""

    threshold: float = 0.6
    categories: CategoryTable = field(default_factory=load_category_table)
    actor: str = "system:clues"


def promote_clues(
    engine: Engine, *, config: TicketConfig, now: datetime | None = None, limit: int = 10_000
) -> list[int]:
    """Open a ticket for every active clue at or above the threshold that has none yet."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        query = (
            select(ClueRow)
            .outerjoin(TicketRow, TicketRow.clue_id == ClueRow.id)
            .where(
                TicketRow.id.is_(None),
                ClueRow.status == ClueStatus.ACTIVE.value,
                ClueRow.confidence >= config.threshold,
                ClueRow.category.is_not(None),
            )
            .order_by(ClueRow.id)
            .limit(limit)
        )
        clues = list(session.scalars(query))
        if not clues:
            return []
        locator = Locator(engine, [(c.lon, c.lat) for c in clues])
        evidence = _evidence(session, [c.id for c in clues])
        specs = []
        for clue in clues:
            category = config.categories.get(str(clue.category))
            reasons = "; ".join(r["reason"] for r in clue.rules)
            specs.append(
                TicketSpec(
                    source=TicketSource.CLUE,
                    category=category,
                    lon=clue.lon,
                    lat=clue.lat,
                    location=locator.locate(clue.lon, clue.lat),
                    description=(
                        f"{category.name_en or category.name}: {clue.detection_class} seen "
                        f"{clue.sighting_count}×, confidence {clue.confidence:.2f}. {reasons}"
                    ).strip(),
                    evidence=evidence[clue.id],
                    clue_id=clue.id,
                )
            )
        rows = create_tickets(session, specs=specs, actor=config.actor, now=now)
        return [r.id for r in rows]


def _evidence(session: Session, clue_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = (
        select(SightingRow)
        .where(SightingRow.clue_id.in_(clue_ids))
        .order_by(SightingRow.observed_at)
    )
    for s in session.scalars(query):
        out[s.clue_id].append(
            {
                "sighting_id": s.id,
                "observed_at": s.observed_at.isoformat(),
                "score": s.score,
                "source": s.source,
                "frame_path": s.frame_path,
                "crop_sha256": s.crop_sha256,
                "crop_path": s.crop_path,
            }
        )
    return out


def hard_negatives(engine: Engine) -> list[dict[str, Any]]:
    """Rejected clue tickets with the reason and every sighting: retraining material."""
    with session_scope(engine) as session:
        query = (
            select(TicketRow, ClueRow)
            .join(ClueRow, ClueRow.id == TicketRow.clue_id)
            .where(TicketRow.status == TicketStatus.REJECTED.value)
            .order_by(TicketRow.id)
        )
        return [
            {
                "ticket_id": t.id,
                "clue_id": c.id,
                "detection_class": c.detection_class,
                "reason": t.reject_reason,
                "sightings": t.evidence,
            }
            for t, c in session.execute(query)
        ]
