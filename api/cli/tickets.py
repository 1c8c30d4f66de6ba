"""`nestpatrol clues|tickets|deliveries|endpoints …`: detections → clues → tickets → dispatch.

Mounted on the main app by :func:`mount`. Errors are :class:`api.errors.ApiError` (exit 2 at
the CLI's one error boundary).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from api.clues import ClueConfig, ClueStatus, ingest_detections, load_detections
from api.clues.service import list_clues
from api.dispatch import service as dispatch
from api.dispatch.config import DeliveryConfig
from api.dispatch.models import DeliveryStatus
from api.dispatch.worker import DeliveryWorker
from api.errors import ApiError
from api.tickets import service as tickets
from api.tickets.categories import load_category_table
from api.tickets.flows import TicketConfig, hard_negatives, promote_clues
from api.tickets.sla import OverdueSweep
from api.tickets.workflow import TicketStatus
from api.verification import service as verification
from api.verification.config import config_from_settings
from api.verification.models import VerificationRow, VerificationStatus
from missions.storage import session_scope

__all__ = ["clues", "deliveries", "endpoints", "mount", "tickets_app"]

clues = typer.Typer(
    help="Clues: detections clustered into one clue per object.", no_args_is_help=True
)
tickets_app = typer.Typer(help="Tickets and their workflow.", no_args_is_help=True)
deliveries = typer.Typer(help="Outbound webhook deliveries (the outbox).", no_args_is_help=True)
endpoints = typer.Typer(help="Dispatch endpoints per jurisdiction.", no_args_is_help=True)

Actor = Annotated[str, typer.Option("--actor", help="Who makes the change (audited).")]


def mount(app: typer.Typer) -> None:
    """Add the four command groups to the ``nestpatrol`` app."""
    app.add_typer(clues, name="clues")
    app.add_typer(tickets_app, name="tickets")
    app.add_typer(deliveries, name="deliveries")
    app.add_typer(endpoints, name="endpoints")


@clues.command("ingest")
def clues_ingest(
    detections: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of detections.")],
    observed: Annotated[
        Path | None,
        typer.Option(
            help="GeoJSON of imaged footprints (observed_at): the baseline for new builds."
        ),
    ] = None,
    frames_root: Annotated[
        Path | None, typer.Option(help="Folder relative frame paths start from [file's folder].")
    ] = None,
    merge_distance: Annotated[float, typer.Option(help="Same object within (m).")] = 10.0,
    baseline: Annotated[
        bool, typer.Option(help="Structures on a place's first observation become baseline.")
    ] = True,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Cluster detections into clues, store evidence crops, apply the rules."""
    settings = settings_for(db, data_dir)
    config = ClueConfig(
        merge_distance_m=merge_distance,
        tz=settings.tz,
        baseline_on_first_observation=baseline,
        evidence_dir=settings.data_dir / "evidence",
    )
    footprints = [
        (d.ground, d.observed_at, d.source) for d in (load_detections(observed) if observed else [])
    ]
    report = ingest_detections(
        engine_for(settings),
        detections=load_detections(detections),
        config=config,
        observed=footprints,
        frames_root=frames_root or detections.parent,
    )
    console.print(
        f"[green]{report.detections} detections[/] → {report.clues_created} new clues, "
        f"{report.clues_updated} updated, {report.crops_stored} crops; "
        + ", ".join(f"{k}: {v}" for k, v in sorted(report.by_status.items()))
    )


@clues.command("list")
def clues_list(
    status: Annotated[ClueStatus | None, typer.Option(help="Only this status.")] = None,
    limit: int = 50,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Clues with their status, confidence and the rules that fired."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        rows = list_clues(s, status=status, limit=limit)
        table = Table("id", "class", "status", "conf.", "seen", "rules")
        for r in rows:
            rules = "; ".join(f"{x['rule']}: {x['reason']}" for x in r.rules)
            table.add_row(str(r.id), r.detection_class, r.status, f"{r.confidence:.2f}",
                          str(r.sighting_count), rules)  # fmt: skip
    console.print(table)


@tickets_app.command("create")
def tickets_create(
    threshold: Annotated[float, typer.Option(help="Minimum clue confidence.")] = 0.6,
    categories: Annotated[
        Path | None, typer.Option(help="City category-code JSON [shipped example].")
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Open tickets for active clues at or above the threshold (each clue once)."""
    config = TicketConfig(threshold=threshold, categories=load_category_table(categories))
    ids = promote_clues(engine_for(settings_for(db, data_dir)), config=config)
    console.print(f"[green]{len(ids)} tickets created[/] {ids[:20]}")


@tickets_app.command("list")
def tickets_list(
    status: Annotated[list[TicketStatus] | None, typer.Option(help="Only these statuses.")] = None,
    jurisdiction: str | None = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--on-time")] = None,
    limit: int = 50,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Tickets with status, category, place, jurisdiction and deadline."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        rows = tickets.list_tickets(
            s, statuses=status or [], jurisdiction=jurisdiction, overdue=overdue, limit=limit
        )
        table = Table("id", "status", "category", "severity", "jurisdiction", "cell", "deadline")
        for r in rows:
            late = " [red]overdue[/]" if r.overdue else ""
            table.add_row(str(r.id), r.status, f"{r.minor_code} {r.category_name}", r.severity,
                          r.jurisdiction or "-", r.cell_id or "-",
                          f"{r.sla_deadline:%Y-%m-%d %H:%M}Z{late}")  # fmt: skip
    console.print(table)


@tickets_app.command("move")
def tickets_move(
    ticket_id: int,
    to: TicketStatus,
    actor: Actor,
    note: str | None = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Move a ticket along the workflow (rejected/duplicate: use `reject`/`duplicate`).

    Moving to handled requests a verification flight (see `tickets verifications`).
    """
    settings = settings_for(db, data_dir)
    with session_scope(engine_for(settings)) as s:
        row = tickets.transition(
            s,
            ticket_id=ticket_id,
            to=to,
            actor=actor,
            now=datetime.now(UTC),
            note=note,
            verification=config_from_settings(settings),
        )
        console.print(f"ticket {row.id}: [green]{row.status}[/]")
        if row.status == TicketStatus.HANDLED.value:
            latest = verification.verifications_of(s, ticket_id=row.id)[-1]
            console.print(_verification_line(latest))


@tickets_app.command("reject")
def tickets_reject(
    ticket_id: int,
    reason: Annotated[str, typer.Option(help="What the detector mistook.")],
    actor: Actor,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Reject a false positive (kept in the hard-negative list)."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        tickets.reject(s, ticket_id=ticket_id, actor=actor, reason=reason, now=datetime.now(UTC))
    console.print(f"ticket {ticket_id}: [yellow]rejected[/]")


@tickets_app.command("duplicate")
def tickets_duplicate(
    ticket_id: int, original: int, actor: Actor, db: DbOption = None, data_dir: DataDirOption = None
) -> None:
    """Mark a ticket as a duplicate of ORIGINAL."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        tickets.mark_duplicate(
            s, ticket_id=ticket_id, original_id=original, actor=actor, now=datetime.now(UTC)
        )
    console.print(f"ticket {ticket_id}: duplicate of {original}")


@tickets_app.command("reopen")
def tickets_reopen(
    ticket_id: int,
    reason: Annotated[str, typer.Option()],
    actor: Actor,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Reopen a closed, rejected or duplicate ticket."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        row = tickets.reopen(
            s, ticket_id=ticket_id, actor=actor, reason=reason, now=datetime.now(UTC)
        )
        console.print(f"ticket {row.id}: reopened → {row.status}")


@tickets_app.command("overdue")
def tickets_overdue(
    every: Annotated[
        float | None,
        typer.Option(help="Keep sweeping every this many seconds (stop with Ctrl-C) [once]."),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Flag and escalate tickets past their SLA deadline (audited; `deliveries work` also
    sweeps every minute)."""
    sweep = OverdueSweep(engine_for(settings_for(db, data_dir)), every_s=every or 60.0)
    if every is None:
        ids = sweep.tick()
        console.print(f"{len(ids)} tickets flagged overdue {ids[:20]}")
        return
    stop = threading.Event()
    try:
        sweep.run(stop)
    except KeyboardInterrupt:
        stop.set()
    console.print(f"{len(sweep.flagged)} tickets flagged overdue {sweep.flagged[:20]}")


def _verification_line(v: VerificationRow) -> str:
    if v.status == VerificationStatus.REQUESTED.value:
        return (
            f"verification {v.id}: sortie {v.sortie_id} from nest {v.nest_id}, "
            f"ETA {v.eta_s or 0:.0f} s"
        )
    return f"verification {v.id}: [yellow]{v.status}[/] {v.reason or ''}"


@tickets_app.command("verifications")
def tickets_verifications(
    status: Annotated[
        list[VerificationStatus] | None, typer.Option(help="Only these statuses.")
    ] = None,
    ticket: Annotated[int | None, typer.Option(help="Only this ticket's.")] = None,
    limit: int = 50,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Verification flights: which nest flies which sortie over which ticket, and the verdict."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        rows = verification.list_verifications(
            s, statuses=status or [], ticket_id=ticket, limit=limit
        )
        table = Table("id", "ticket", "status", "nest", "sortie", "ETA s", "requested", "note")
        for v in rows:
            note = v.reason or ""
            if v.result_detail:
                counted = sum(1 for d in v.result_detail["detections"] if d["counts"])
                note = f"{counted} of {len(v.result_detail['detections'])} detections counted"
            table.add_row(str(v.id), str(v.ticket_id), v.status, v.nest_id or "-",
                          v.sortie_id or "-", f"{v.eta_s:.0f}" if v.eta_s is not None else "-",
                          f"{v.requested_at:%Y-%m-%d %H:%M}Z", note[:80])  # fmt: skip
    console.print(table)


@tickets_app.command("verify")
def tickets_verify(
    verification_id: int,
    detections: Annotated[
        Path, typer.Option(help="The verification flight's detections (`nestpatrol detect`).")
    ],
    flown_at: Annotated[
        datetime | None,
        typer.Option(help="When it flew, ISO with offset [latest detection, else now]."),
    ] = None,
    flight_id: Annotated[str | None, typer.Option(help="The flight record's id.")] = None,
    frames_root: Annotated[
        Path | None, typer.Option(help="Folder relative frame paths start from [file's folder].")
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Judge a verification flight: close the ticket, or send it back with the new evidence."""
    settings = settings_for(db, data_dir)
    found = load_detections(detections)
    now = datetime.now(UTC)
    if flown_at is None:
        flown_at = max((d.observed_at for d in found), default=now)
    elif flown_at.tzinfo is None:
        raise ApiError(f"--flown-at {flown_at.isoformat()} has no offset; append Z or +08:00")
    with session_scope(engine_for(settings)) as s:
        row = verification.complete_verification(
            s,
            verification_id=verification_id,
            detections=found,
            flown_at=flown_at,
            flight_id=flight_id,
            now=now,
            config=config_from_settings(settings),
            frames_root=frames_root or detections.parent,
        )
        ticket = tickets.get_ticket(s, ticket_id=row.ticket_id)
        colour = "green" if row.status == VerificationStatus.PASSED.value else "yellow"
        console.print(
            f"verification {row.id}: [{colour}]{row.status}[/]; ticket {ticket.id} is "
            f"{ticket.status} ({len(row.evidence)} new evidence item(s))"
        )


@tickets_app.command("negatives")
def tickets_negatives(
    out: Annotated[Path, typer.Option(help="Write the hard-negative list here (JSON).")],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Export rejected tickets with their sightings, for retraining the detector."""
    rows = hard_negatives(engine_for(settings_for(db, data_dir)))
    out.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    console.print(f"{len(rows)} hard negatives → {out}")


@deliveries.command("list")
def deliveries_list(
    status: Annotated[
        DeliveryStatus | None, typer.Option(help="pending, delivered or dead.")
    ] = None,
    limit: int = 50,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Outbox events and their delivery state (``--status dead``: the dead-letter list)."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        rows = dispatch.list_events(s, status=status, limit=limit)
        table = Table("event id", "type", "ticket", "jurisdiction", "status", "tries", "last error")
        for r in rows:
            table.add_row(r.id, r.event_type, str(r.ticket_id), r.jurisdiction or "-", r.status,
                          str(r.attempts), (r.last_error or "")[:60])  # fmt: skip
    console.print(table)


@deliveries.command("replay")
def deliveries_replay(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Event ids to replay.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Replay every dead event.")] = False,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Put dead-lettered events back in the queue (same id and body: receivers dedupe)."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        ids = list(event_ids or [])
        if all_dead:
            ids += [e.id for e in dispatch.list_events(s, status=DeliveryStatus.DEAD, limit=10**6)]
        if not ids:
            raise ApiError("name the events to replay, or pass --all-dead")
        count = dispatch.replay(s, event_ids=ids, now=datetime.now(UTC))
    console.print(f"{count} events queued again")


@deliveries.command("work")
def deliveries_work(
    until_idle: Annotated[bool, typer.Option(help="Exit when nothing is pending.")] = False,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run a delivery worker (several may run at once; stop it any time).

    It also flags overdue tickets every minute (their events then go out in the same loop).
    """
    engine = engine_for(settings_for(db, data_dir))
    worker = DeliveryWorker(engine, config=DeliveryConfig())
    sweep = OverdueSweep(engine, every_s=60.0)
    stop = threading.Event()
    sla = threading.Thread(target=sweep.run, args=(stop,), name="sla-sweep", daemon=True)
    if until_idle:
        sweep.tick()  # once, before the queue is drained
    else:
        sla.start()
    try:
        stats = worker.run(until_idle=until_idle)
    finally:
        stop.set()
        worker.close()
    console.print(f"delivered {stats.delivered}, retried {stats.retried}, dead {stats.dead}")


@endpoints.command("set")
def endpoints_set(
    jurisdiction: Annotated[str, typer.Argument(help="Jurisdiction code, or * for the fallback.")],
    url: str,
    secret: Annotated[str | None, typer.Option(help="whsec_… secret [generate one].")] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create or replace a jurisdiction's webhook endpoint; prints the secret to share."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        row = dispatch.set_endpoint(
            s, jurisdiction=jurisdiction, url=url, secret=secret, now=datetime.now(UTC)
        )
        console.print(f"{row.jurisdiction} → {row.url}\nsecret: {row.secret}")


@endpoints.command("list")
def endpoints_list(db: DbOption = None, data_dir: DataDirOption = None) -> None:
    """Configured endpoints (secrets not shown)."""
    with session_scope(engine_for(settings_for(db, data_dir))) as s:
        table = Table("jurisdiction", "url", "active")
        for r in dispatch.list_endpoints(s):
            table.add_row(r.jurisdiction, r.url, str(r.active))
    console.print(table)
