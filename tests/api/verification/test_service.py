from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, select

from api.clues.detection import Detection
from api.dispatch.models import OutboxEventRow
from api.tickets import service as tickets
from api.tickets.models import TicketRow
from api.tickets.workflow import TicketStatus
from api.verification import (
    VerificationConfig,
    VerificationError,
    VerificationRow,
    VerificationStatus,
    complete_verification,
    verifications_of,
)
from missions.geo.crs import utm_crs_for
from missions.planning.frame import MetricFrame
from missions.planning.sortie import WaypointAction
from missions.planning.validate import validate_sortie
from missions.storage import session_scope
from missions.storage.models import SortieRow
from missions.storage.sorties import load_sortie

from .conftest import HANDLED_AT, feature, handled_ticket, lonlat, nest

V = VerificationStatus
FLOWN = HANDLED_AT + timedelta(minutes=20)


def _only(engine: Engine, tid: int) -> VerificationRow:
    with session_scope(engine) as s:
        (row,) = verifications_of(s, ticket_id=tid)
        s.expunge(row)
    return row


def _detect(cls: str, dx_m: float, **extra: object) -> Detection:
    f = feature(cls, FLOWN.isoformat(), dx_m, 0.0, score=0.8, source=f"v-{cls}-{dx_m}", **extra)
    return Detection.from_geojson_feature(f)


def _complete(engine: Engine, vid: int, dets: list[Detection], **kw: object) -> VerificationRow:
    with session_scope(engine) as s:
        row = complete_verification(
            s, verification_id=vid, detections=dets, flown_at=FLOWN, flight_id="f-1", **kw
        )  # type: ignore[arg-type]
        s.flush()
        s.expunge(row)
    return row


def test_handled_requests_a_valid_sortie_from_the_nearest_nest(fleet: Engine) -> None:
    tid = handled_ticket(fleet, 200.0)
    v = _only(fleet, tid)
    assert v.status == V.REQUESTED.value, v.reason
    assert v.requested_by == "officer:li"
    assert v.requested_at == HANDLED_AT
    assert v.nest_id == "nest-w"
    assert v.sortie_id is not None
    assert 0 < (v.eta_s or 0) < 300  # 600 m away: well inside the five-minute promise
    sortie = load_sortie(fleet, v.sortie_id)
    frame = MetricFrame(utm_crs_for(*lonlat(0.0)))
    validate_sortie(sortie, nest=nest(), frame=frame, tz=VerificationConfig().tz)
    first, last = sortie.waypoints[0], sortie.waypoints[-1]
    assert first.action is WaypointAction.TAKEOFF
    assert last.action is WaypointAction.LAND
    assert (last.lon, last.lat) == pytest.approx((nest().lon, nest().lat), abs=1e-7)
    assert sortie.planned_start == HANDLED_AT
    # the flown square (60 m) is centred on the ticket and lies where the survey lines are
    with session_scope(fleet) as s:
        ticket = s.get_one(TicketRow, tid)
        assert v.geom.contains(ticket.geom)
        stored = s.get_one(SortieRow, v.sortie_id)
        assert stored.priority == "verification"
    side = math.sqrt(frame_area(v))
    assert side == pytest.approx(60.0, rel=0.01)
    surveyed = [w for w in sortie.waypoints if w.action is WaypointAction.SURVEY_START]
    assert surveyed


def frame_area(v: VerificationRow) -> float:
    import shapely

    frame = MetricFrame(utm_crs_for(*lonlat(0.0)))
    return float(shapely.transform(v.geom, lambda xy: frame.to_metric(xy[:, 0], xy[:, 1])).area)


def test_nothing_of_the_class_nearby_closes_the_ticket(fleet: Engine) -> None:
    tid = handled_ticket(fleet, 200.0)
    v = _only(fleet, tid)
    far = _detect("construction_waste", 240.0)  # 40 m away: another heap
    other = _detect("muck_truck", 201.0)  # right there, but not what the ticket is about
    done = _complete(fleet, v.id, [far, other])
    assert done.status == V.PASSED.value
    assert done.flight_id == "f-1"
    assert done.flown_at == FLOWN
    assert done.result_detail is not None
    assert done.result_detail["distance_m"] == 15.0
    assert [d["counts"] for d in done.result_detail["detections"]] == [False, False]
    assert done.result_detail["detections"][1]["distance_m"] < 15.0
    with session_scope(fleet) as s:
        steps = tickets.history(s, ticket_id=tid)
        events = s.scalars(select(OutboxEventRow).where(OutboxEventRow.ticket_id == tid)).all()
        assert s.get_one(TicketRow, tid).status == TicketStatus.VERIFIED_CLOSED.value
    assert [(t.to_status, t.actor) for t in steps[-2:]] == [
        ("feedback", "system:verification"),
        ("verified_closed", "system:verification"),
    ]
    assert f"verification {v.id}" in (steps[-1].note or "")
    assert len(events) == 1 + len(steps) - 1  # created + one per transition


def test_the_violation_still_there_goes_back_to_the_officer_with_evidence(
    fleet: Engine, tmp_path: Path
) -> None:
    tid = handled_ticket(fleet, 200.0)
    v = _only(fleet, tid)
    Image.new("RGB", (200, 200), (120, 90, 60)).save(tmp_path / "v1.jpg")
    near = _detect("construction_waste", 205.0, frame_path="v1.jpg", pixel_box=[50, 50, 90, 80])
    config = VerificationConfig(evidence_dir=tmp_path / "evidence")
    done = _complete(fleet, v.id, [near], config=config, frames_root=tmp_path)
    assert done.status == V.FAILED.value
    (ev,) = done.evidence
    assert ev["verification_id"] == v.id
    assert ev["distance_m"] < 15.0
    assert (tmp_path / "evidence" / ev["crop_path"]).is_file()
    with session_scope(fleet) as s:
        ticket = s.get_one(TicketRow, tid)
        steps = tickets.history(s, ticket_id=tid)
        assert ticket.status == TicketStatus.DISPATCHED.value
        assert ticket.evidence[-1] == ev
        assert len(ticket.evidence) == 2  # the clue's sighting, then the verification's
    assert (steps[-1].from_status, steps[-1].actor) == ("handled", "system:verification")
    assert "back to the officer" in (steps[-1].note or "")


def test_completing_twice_changes_nothing(fleet: Engine) -> None:
    tid = handled_ticket(fleet, 200.0)
    v = _only(fleet, tid)
    first = _complete(fleet, v.id, [_detect("construction_waste", 201.0)])
    with session_scope(fleet) as s:
        before = (len(tickets.history(s, ticket_id=tid)), s.get_one(TicketRow, tid).sequence)
    again = _complete(fleet, v.id, [])  # a retried upload, even with other content
    assert (again.status, again.result_at, again.evidence) == (
        first.status,
        first.result_at,
        first.evidence,
    )
    with session_scope(fleet) as s:
        after = (len(tickets.history(s, ticket_id=tid)), s.get_one(TicketRow, tid).sequence)
        assert len(s.get_one(TicketRow, tid).evidence) == 2
    assert after == before


def test_a_place_no_drone_reaches_is_left_for_manual_verification(fleet: Engine) -> None:
    tid = handled_ticket(fleet, 15_000.0)  # 15 km east: beyond every nest's radius
    v = _only(fleet, tid)
    assert v.status == V.MANUAL.value
    assert v.reason
    assert "no verification flight possible" in v.reason
    assert "range" in v.reason
    assert "verify on site" in v.reason
    assert v.sortie_id is None
    assert v.nest_id is None
    with session_scope(fleet) as s:
        assert s.get_one(TicketRow, tid).status == TicketStatus.HANDLED.value
        # the officer still verifies by hand
        tickets.transition(s, ticket_id=tid, to=TicketStatus.FEEDBACK, actor="officer", now=FLOWN)
        tickets.transition(
            s, ticket_id=tid, to=TicketStatus.VERIFIED_CLOSED, actor="officer", now=FLOWN
        )
    assert _only(fleet, tid).status == V.CANCELLED.value


def test_no_nests_at_all_is_a_recorded_reason_not_an_error(engine: Engine) -> None:
    from ..tickets.conftest import load_small_district

    load_small_district(engine)
    tid = handled_ticket(engine, 0.0)
    v = _only(engine, tid)
    assert v.status == V.MANUAL.value
    assert v.reason
    assert "no nests" in v.reason


def test_moving_the_ticket_by_hand_cancels_the_flight(fleet: Engine) -> None:
    tid = handled_ticket(fleet, 200.0)
    v = _only(fleet, tid)
    with session_scope(fleet) as s:
        tickets.transition(s, ticket_id=tid, to=TicketStatus.DISPATCHED, actor="disp", now=FLOWN)
    cancelled = _only(fleet, tid)
    assert cancelled.status == V.CANCELLED.value
    assert "handled → dispatched by disp" in (cancelled.reason or "")
    with pytest.raises(VerificationError, match="cancelled"):
        _complete(fleet, v.id, [])
    # handled again: a fresh request, the old one stays cancelled
    with session_scope(fleet) as s:
        tickets.transition(s, ticket_id=tid, to=TicketStatus.HANDLED, actor="o", now=FLOWN)
        rows = verifications_of(s, ticket_id=tid)
        assert [r.status for r in rows] == [V.CANCELLED.value, V.REQUESTED.value]


def test_night_construction_is_verified_in_the_next_night(fleet: Engine) -> None:
    tid = handled_ticket(fleet, 200.0, cls="construction_machinery")
    v = _only(fleet, tid)
    with session_scope(fleet) as s:
        assert s.get_one(TicketRow, tid).category_key == "night_construction"
    assert v.status == V.REQUESTED.value, v.reason
    tz = VerificationConfig().tz
    assert v.planned_start is not None
    local = v.planned_start.astimezone(tz)
    assert (local.hour, local.minute) == (22, 0)
    assert v.planned_start > HANDLED_AT
