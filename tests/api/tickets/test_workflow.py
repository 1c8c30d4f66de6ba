from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from api.clues import ClueRow
from api.dispatch.models import EventType, OutboxEventRow
from api.errors import CategoryTableError, IllegalTransitionError
from api.tickets import service as tickets
from api.tickets.categories import Severity, load_category_table
from api.tickets.flows import TicketConfig, hard_negatives, promote_clues
from api.tickets.models import TicketRow
from api.tickets.workflow import ALLOWED, TicketStatus
from missions.geo.crs import wgs84_to_gcj02
from missions.storage import session_scope

from .conftest import T0, make_active_clues

S = TicketStatus
LOOP = [S.FILED, S.DISPATCHED, S.HANDLED, S.FEEDBACK, S.VERIFIED_CLOSED, S.EVALUATED]


def test_clues_above_the_threshold_become_located_tickets(district: Engine) -> None:
    clue_ids = make_active_clues(district, [-500.0, 500.0])
    low = make_active_clues(district, [900.0], cls="construction_waste")
    with session_scope(district) as s:
        s.get_one(ClueRow, low[0]).confidence = 0.3
    ids = promote_clues(district, config=TicketConfig(threshold=0.6), now=T0)
    assert len(ids) == 2
    assert promote_clues(district, config=TicketConfig(), now=T0) == []  # once per clue
    with session_scope(district) as s:
        rows = [s.get_one(TicketRow, i) for i in ids]
        events = list(s.scalars(select(OutboxEventRow).order_by(OutboxEventRow.created_at)))
    assert [r.clue_id for r in rows] == clue_ids
    assert [r.jurisdiction for r in rows] == ["J-W", "J-E"]
    assert all(r.cell_id and r.cell_id.startswith("49N-100-") for r in rows)
    table = load_category_table()
    waste = table.get("construction_waste_dumping")
    for r in rows:
        assert (r.major_code, r.minor_code, r.status) == (
            waste.major_code,
            waste.minor_code,
            "collected",
        )
        assert r.sla_deadline == T0 + timedelta(hours=waste.handling_time_limit_h)
        gcj = wgs84_to_gcj02([r.lon], [r.lat])
        assert (r.gcj_lon, r.gcj_lat) == pytest.approx((gcj[0][0], gcj[1][0]))
        assert r.gcj_lon - r.lon > 0.003  # the GCJ-02 offset in Guangzhou is ~500 m
        assert r.evidence
        assert r.evidence[0]["source"]
    # the transactional outbox: one ticket.created event per ticket, same transaction
    assert [e.event_type for e in events] == [EventType.TICKET_CREATED.value] * 2
    assert {e.jurisdiction for e in events} == {"J-W", "J-E"}


def _ticket(engine: Engine) -> int:
    make_active_clues(engine, [0.0])
    (tid,) = promote_clues(engine, config=TicketConfig(), now=T0)
    return tid


def test_full_loop_is_audited_and_announced(district: Engine) -> None:
    tid = _ticket(district)
    with session_scope(district) as s:
        for k, step in enumerate(LOOP):
            tickets.transition(
                s, ticket_id=tid, to=step, actor=f"officer:{k}", now=T0 + timedelta(hours=k)
            )
    with session_scope(district) as s:
        steps = tickets.history(s, ticket_id=tid)
        events = list(s.scalars(select(OutboxEventRow).where(OutboxEventRow.ticket_id == tid)))
    assert [t.to_status for t in steps] == ["collected", *[x.value for x in LOOP]]
    assert [t.from_status for t in steps][:2] == [None, "collected"]
    assert [t.actor for t in steps][1:] == [f"officer:{k}" for k in range(len(LOOP))]
    assert steps[-1].at == T0 + timedelta(hours=len(LOOP) - 1)
    assert len(events) == 1 + len(LOOP)


def test_illegal_transition_names_from_to_and_allowed(district: Engine) -> None:
    tid = _ticket(district)
    with session_scope(district) as s, pytest.raises(IllegalTransitionError) as err:
        tickets.transition(s, ticket_id=tid, to=S.VERIFIED_CLOSED, actor="x", now=T0)
    text = str(err.value)
    assert "'collected' to 'verified_closed'" in text
    assert "duplicate, filed, rejected" in text


@pytest.mark.parametrize("status", list(S))
def test_every_state_has_a_way_on(status: TicketStatus) -> None:
    # no dead ends: evaluated, rejected and duplicate can all be reopened
    assert ALLOWED[status]


def test_reject_keeps_a_hard_negative_and_reopen_brings_it_back(district: Engine) -> None:
    tid = _ticket(district)
    with session_scope(district) as s:
        tickets.reject(
            s, ticket_id=tid, actor="officer:li", reason="a blue tarp, not waste", now=T0
        )
    negatives = hard_negatives(district)
    assert [(n["ticket_id"], n["reason"]) for n in negatives] == [(tid, "a blue tarp, not waste")]
    assert negatives[0]["sightings"]
    with session_scope(district) as s:
        row = tickets.reopen(s, ticket_id=tid, actor="supervisor", reason="re-check", now=T0)
        assert (row.status, row.reject_reason) == ("filed", None)


def test_duplicate_is_linked_and_closed_tickets_reopen_to_the_officer(district: Engine) -> None:
    make_active_clues(district, [0.0, 300.0])
    first, second = promote_clues(district, config=TicketConfig(), now=T0)
    with session_scope(district) as s:
        dup = tickets.mark_duplicate(s, ticket_id=second, original_id=first, actor="a", now=T0)
        assert dup.duplicate_of == first
        for step in LOOP[:5]:
            tickets.transition(s, ticket_id=first, to=step, actor="o", now=T0)
        assert tickets.reopen(s, ticket_id=first, actor="o", reason="back", now=T0).status == (
            "dispatched"
        )
        with pytest.raises(IllegalTransitionError, match="reopen"):
            tickets.reopen(s, ticket_id=first, actor="o", reason="again", now=T0)


def test_overdue_tickets_are_flagged_once_and_escalated(district: Engine) -> None:
    tid = _ticket(district)
    late = T0 + timedelta(days=3)
    with session_scope(district) as s:
        assert tickets.flag_overdue(s, now=T0) == []
        assert tickets.flag_overdue(s, now=late) == [tid]
        assert tickets.flag_overdue(s, now=late) == []
        row = s.get_one(TicketRow, tid)
        assert row.overdue
        assert row.severity == Severity.DISTRICT  # waste is a town matter; overdue goes up
        assert [t.id for t in tickets.list_tickets(s, overdue=True)] == [tid]
        events = s.scalars(select(OutboxEventRow.event_type).where(OutboxEventRow.ticket_id == tid))
        assert EventType.TICKET_OVERDUE.value in list(events)


def test_category_table_errors_say_what_exists(tmp_path: Path) -> None:
    table = load_category_table()
    with pytest.raises(CategoryTableError, match="illegal_construction"):
        table.get("potholes")

    bad = tmp_path / "t.json"
    bad.write_text('{"city": "x", "categories": []}')
    with pytest.raises(CategoryTableError, match=r"categories_example\.json"):
        load_category_table(bad)
