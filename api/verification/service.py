"""Verification by drone: request a re-flight when a ticket is handled, judge what it saw.

The ticket service calls :func:`on_ticket_transition` on every move, inside the caller's
transaction, so the API, the CLI and Open311 all request (and cancel) verifications the same
way. Verdicts move the ticket with the actor ``system:verification``:

* passed (no detection of the ticket's class within ``distance_m``): ``handled → feedback →
  verified_closed`` (or ``feedback → verified_closed``), both steps audited and announced;
* failed: the new detections (crops stored when frames are at hand) are appended to the ticket's
  evidence and the ticket goes back to the officer, ``handled|feedback → dispatched``, the edge
  the workflow has for "not fixed, do it again".

A verification that cannot be flown is recorded as ``manual`` with its reason: the ticket stays
handled and an officer or dispatcher verifies by hand (a later flight's detections may still
complete it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session

from api.clues.detection import Detection, DetectionClass
from api.clues.evidence import store_crop
from api.clues.models import ClueRow
from api.clues.rules import ClueCategory
from api.errors import ApiError, NotFoundError
from api.tickets import service as tickets
from api.tickets.models import TicketRow
from api.tickets.workflow import TicketStatus
from api.verification.config import VerificationConfig
from api.verification.models import OPEN, VerificationRow, VerificationStatus
from api.verification.planner import (
    PlannedFlight,
    plan_verification,
    sortie_row,
    verification_area,
)
from missions.geo.crs import utm_crs_for
from missions.planning.frame import MetricFrame

__all__ = [
    "VerificationError",
    "cancel_open",
    "complete_verification",
    "get_verification",
    "list_verifications",
    "mark_flown",
    "on_ticket_transition",
    "request_verification",
    "ticket_classes",
    "verifications_of",
]

S = TicketStatus
V = VerificationStatus

#: ticket states in which a verification is wanted (the officer says it is dealt with)
_LIVE = frozenset({S.HANDLED, S.FEEDBACK})

#: detector classes that show each clue category is still there
_CLASSES: dict[str, frozenset[DetectionClass]] = {
    ClueCategory.ILLEGAL_CONSTRUCTION.value: frozenset({DetectionClass.ILLEGAL_STRUCTURE}),
    ClueCategory.WASTE_DUMPING.value: frozenset({DetectionClass.CONSTRUCTION_WASTE}),
    ClueCategory.NIGHT_CONSTRUCTION.value: frozenset(
        {DetectionClass.CONSTRUCTION_MACHINERY, DetectionClass.MUCK_TRUCK}
    ),
}


class VerificationError(ApiError):
    """A verification cannot be completed or changed as asked (the message says why and how)."""


def on_ticket_transition(
    session: Session,
    *,
    ticket: TicketRow,
    before: TicketStatus,
    after: TicketStatus,
    actor: str,
    now: datetime,
    config: VerificationConfig | None = None,
) -> None:
    """The tickets service's hook: request on ``handled``, cancel when the ticket leaves the
    handled/feedback states by any other hand than a verification's."""
    if after is S.HANDLED:
        cancel_open(session, ticket_id=ticket.id, reason="superseded by a new request", now=now)
        request_verification(session, ticket=ticket, actor=actor, now=now, config=config)
    elif after not in _LIVE:
        reason = f"ticket moved {before.value} → {after.value} by {actor}"
        cancel_open(session, ticket_id=ticket.id, reason=reason, now=now)


def ticket_classes(session: Session, ticket: TicketRow) -> frozenset[DetectionClass]:
    """The detector classes that mean the ticket's violation is still there (may be empty)."""
    classes = set(_CLASSES.get(ticket.category_key, frozenset()))
    if ticket.clue_id is not None:
        clue = session.get(ClueRow, ticket.clue_id)
        if clue is not None:
            classes.add(DetectionClass(clue.detection_class))
    return frozenset(classes)


def request_verification(
    session: Session,
    *,
    ticket: TicketRow,
    actor: str,
    now: datetime,
    config: VerificationConfig | None = None,
) -> VerificationRow:
    """Plan, store and record a verification sortie over the ticket (or why none can fly)."""
    cfg = config or VerificationConfig()
    classes = ticket_classes(session, ticket)
    area = verification_area(ticket.lon, ticket.lat, cfg.box_m)
    row = VerificationRow(
        ticket_id=ticket.id,
        status=V.MANUAL.value,
        requested_at=now,
        requested_by=actor,
        evidence=[],
        geom=area,
    )
    if not classes:
        row.reason = (
            f"category {ticket.category_key!r} has no detector class to look for; "
            "verify on site and move the ticket by hand"
        )
    else:
        outcome = plan_verification(
            _engine(session),
            lon=ticket.lon,
            lat=ticket.lat,
            area=area,
            start=_start_for(ticket, now, cfg),
            ticket_id=ticket.id,
            config=cfg,
        )
        if isinstance(outcome, PlannedFlight):
            row.status = V.REQUESTED.value
            row.nest_id = outcome.sortie.nest_id
            row.sortie_id = outcome.sortie.sortie_id
            row.planned_start = outcome.sortie.planned_start
            row.eta_s = round(outcome.option.eta_s, 1)
            session.add(sortie_row(outcome.sortie, now=now))
        else:
            row.reason = f"no verification flight possible: {outcome.reason}; verify on site"
    session.add(row)
    session.flush()
    return row


def mark_flown(
    session: Session, *, verification_id: int, flown_at: datetime, flight_id: str | None = None
) -> VerificationRow:
    """The flight is back (its detections come later with :func:`complete_verification`)."""
    row = get_verification(session, verification_id=verification_id, lock=True)
    if VerificationStatus(row.status) in (V.REQUESTED, V.MANUAL):
        row.status = V.FLOWN.value
        row.flown_at = flown_at
        row.flight_id = flight_id
    return row


def complete_verification(
    session: Session,
    *,
    verification_id: int,
    detections: Sequence[Detection],
    flown_at: datetime,
    flight_id: str | None = None,
    now: datetime | None = None,
    config: VerificationConfig | None = None,
    frames_root: Path | None = None,
) -> VerificationRow:
    """Judge the verification flight's detections and move the ticket accordingly.

    Idempotent: a verification already passed or failed is returned unchanged, so a retried
    upload neither moves the ticket twice nor duplicates its evidence.
    """
    cfg = config or VerificationConfig()
    now = now or flown_at
    row = get_verification(session, verification_id=verification_id, lock=True)
    status = VerificationStatus(row.status)
    if status in (V.PASSED, V.FAILED):
        return row
    if status is V.CANCELLED:
        raise VerificationError(
            f"verification {row.id} was cancelled ({row.reason}); its ticket no longer waits "
            "for it — move the ticket to handled again to request a new one"
        )
    ticket = tickets.get_ticket(session, ticket_id=row.ticket_id, lock=True)
    if TicketStatus(ticket.status) not in _LIVE:
        raise VerificationError(
            f"ticket {ticket.id} is {ticket.status}, not handled or feedback; move it to "
            "handled to request a new verification"
        )
    classes = ticket_classes(session, ticket)
    if not classes:
        raise VerificationError(
            f"ticket {ticket.id} ({ticket.category_key}) has no detector class to judge a "
            "flight by; verify on site and move the ticket by hand"
        )
    judged = _judge(ticket, detections, classes, cfg)
    row.flown_at = flown_at
    row.flight_id = flight_id
    row.result_at = now
    row.result_detail = judged.detail
    if not judged.still_there:
        row.status = V.PASSED.value
        note = (
            f"verification {row.id}: no {', '.join(sorted(c.value for c in classes))} within "
            f"{cfg.distance_m:g} m of the ticket ({len(detections)} detection(s) on the flight)"
        )
        if TicketStatus(ticket.status) is S.HANDLED:
            tickets.transition(
                session, ticket_id=ticket.id, to=S.FEEDBACK, actor=cfg.actor, now=now, note=note
            )
        tickets.transition(
            session, ticket_id=ticket.id, to=S.VERIFIED_CLOSED, actor=cfg.actor, now=now, note=note
        )
        return row
    row.status = V.FAILED.value
    row.evidence = [_evidence(d, row.id, m, cfg, frames_root) for d, m in judged.still_there]
    ticket.evidence = [*ticket.evidence, *row.evidence]
    nearest = min(m for _, m in judged.still_there)
    note = (
        f"verification {row.id}: {len(judged.still_there)} detection(s) of "
        f"{', '.join(sorted(c.value for c in classes))} still within {cfg.distance_m:g} m "
        f"(nearest {nearest:.1f} m); back to the officer with the new evidence"
    )
    tickets.transition(
        session, ticket_id=ticket.id, to=S.DISPATCHED, actor=cfg.actor, now=now, note=note
    )
    return row


def cancel_open(session: Session, *, ticket_id: int, reason: str, now: datetime) -> list[int]:
    """Cancel the ticket's verifications that still wait for a result."""
    query = select(VerificationRow).where(
        VerificationRow.ticket_id == ticket_id,
        VerificationRow.status.in_([s.value for s in OPEN]),
    )
    cancelled = []
    for row in session.scalars(query.with_for_update()):
        row.status = V.CANCELLED.value
        row.reason = reason
        row.result_at = now
        cancelled.append(row.id)
    return cancelled


def get_verification(
    session: Session, *, verification_id: int, lock: bool = False
) -> VerificationRow:
    row = session.get(VerificationRow, verification_id, with_for_update=lock or None)
    if row is None:
        raise NotFoundError(
            f"no verification {verification_id}; list them with `nestpatrol tickets verifications`"
        )
    return row


def verifications_query(
    *,
    statuses: Sequence[VerificationStatus] = (),
    ticket_id: int | None = None,
    jurisdictions: Sequence[str] | None = None,
) -> Select[Any]:
    """The query behind the lists; ``jurisdictions`` restricts to those tickets' places."""
    query = select(VerificationRow).order_by(VerificationRow.id)
    if statuses:
        query = query.where(VerificationRow.status.in_([s.value for s in statuses]))
    if ticket_id is not None:
        query = query.where(VerificationRow.ticket_id == ticket_id)
    if jurisdictions is not None:
        query = query.join(TicketRow, TicketRow.id == VerificationRow.ticket_id).where(
            TicketRow.jurisdiction.in_(list(jurisdictions))
        )
    return query


def list_verifications(
    session: Session,
    *,
    statuses: Sequence[VerificationStatus] = (),
    ticket_id: int | None = None,
    jurisdictions: Sequence[str] | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[VerificationRow]:
    query = verifications_query(statuses=statuses, ticket_id=ticket_id, jurisdictions=jurisdictions)
    if after_id is not None:
        query = query.where(VerificationRow.id > after_id)
    return list(session.scalars(query.limit(limit)))


def verifications_of(session: Session, *, ticket_id: int) -> list[VerificationRow]:
    return list(session.scalars(verifications_query(ticket_id=ticket_id)))


@dataclass(frozen=True)
class _Judged:
    still_there: list[tuple[Detection, float]]  # (detection, distance m)
    detail: dict[str, Any]


def _judge(
    ticket: TicketRow,
    detections: Sequence[Detection],
    classes: frozenset[DetectionClass],
    cfg: VerificationConfig,
) -> _Judged:
    frame = MetricFrame(utm_crs_for(ticket.lon, ticket.lat))
    target = shapely.Point(frame.point(ticket.lon, ticket.lat))
    considered, still = [], []
    for d in detections:
        ground = shapely.transform(d.ground, lambda xy: frame.to_metric(xy[:, 0], xy[:, 1]))
        distance = float(shapely.distance(ground, target))
        counts = (
            d.detection_class in classes and d.score >= cfg.min_score and distance <= cfg.distance_m
        )
        considered.append(
            {
                "class": d.detection_class.value,
                "score": d.score,
                "source": d.source,
                "distance_m": round(distance, 2),
                "counts": counts,
            }
        )
        if counts:
            still.append((d, distance))
    detail = {
        "classes": sorted(c.value for c in classes),
        "distance_m": cfg.distance_m,
        "min_score": cfg.min_score,
        "detections": considered,
        "verdict": V.FAILED.value if still else V.PASSED.value,
    }
    return _Judged(still, detail)


def _evidence(
    d: Detection,
    verification_id: int,
    distance_m: float,
    cfg: VerificationConfig,
    frames_root: Path | None,
) -> dict[str, Any]:
    crop = None
    if d.frame_path and d.pixel_box and cfg.evidence_dir is not None:
        frame = Path(d.frame_path)
        if not frame.is_absolute() and frames_root is not None:
            frame = frames_root / frame
        crop = store_crop(frame, d.pixel_box, cfg.evidence_dir)
    return {
        "verification_id": verification_id,
        "observed_at": d.observed_at.isoformat(),
        "detection_class": d.detection_class.value,
        "score": d.score,
        "distance_m": round(distance_m, 2),
        "source": d.source,
        "frame_path": d.frame_path,
        "crop_sha256": crop.sha256 if crop else None,
        "crop_path": crop.relative_path if crop else None,
    }


def _start_for(ticket: TicketRow, now: datetime, cfg: VerificationConfig) -> datetime:
    """Now; for night construction, the next moment of the night window (local time)."""
    if ticket.category_key != ClueCategory.NIGHT_CONSTRUCTION.value:
        return now
    local = now.astimezone(cfg.tz)
    start, end = cfg.night_start, cfg.night_end
    t = local.time()
    in_night = (t >= start or t < end) if start > end else (start <= t < end)
    if in_night:
        return now
    at = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine
