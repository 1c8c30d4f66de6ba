"""The controller's scheduling logic against a scripted in-memory adapter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from missions.fleet.profiles import Nest, NestStatus
from missions.planning.sortie import Sortie
from patrol.adapters.base import FlightLog, FlightOutcome, NestState, RecallCheck
from patrol.controller import ControllerConfig, PatrolController, RapidRequest
from patrol.errors import PatrolError

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


@dataclass
class FakeAdapter:
    """Flies instantly in simulated time; scripted refusals; recalls honoured at 60 s steps."""

    nest: Nest
    now: datetime = T0
    battery: float = 1.0
    refuse_until: datetime | None = None  # wind hold
    flown: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def nest_id(self) -> str:
        return self.nest.nest_id

    def state(self) -> NestState:
        return NestState(self.nest_id, NestStatus.AVAILABLE, self.battery, self.now)

    def wait_until(self, when: datetime) -> NestState:
        if when > self.now:
            p = self.nest.profile
            self.battery = min(
                1.0, self.battery + (when - self.now).total_seconds() / p.charge_time_s
            )
            self.now = when
        return self.state()

    def fly(self, sortie: Sortie, *, recall: RecallCheck | None = None) -> FlightLog:
        if self.refuse_until is not None and self.now < self.refuse_until:
            return FlightLog(
                sortie.sortie_id, self.nest_id, FlightOutcome.NOT_LAUNCHED, reason="wind 14 m/s"
            )
        start = self.now
        outcome = FlightOutcome.COMPLETED
        t = start
        end = start + timedelta(seconds=sortie.estimated_duration_s)
        while t < end:
            t += timedelta(seconds=60)
            if recall is not None and recall(t):
                outcome = FlightOutcome.PREEMPTED
                end = t
                break
        used = (end - start).total_seconds() / self.nest.profile.rated_endurance_s
        self.battery -= used
        self.now = end
        self.flown.append((sortie.sortie_id, start))
        return FlightLog(
            sortie.sortie_id,
            self.nest_id,
            outcome,
            started_at=start,
            ended_at=end,
            battery_start=self.battery + used,
            battery_end=self.battery,
        )


class Planner:
    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []

    def missed_cells(self, sortie: Sortie, flight: FlightLog) -> list[str]:
        return list(sortie.cell_ids[1:])  # pretend the first cell was imaged

    def make_up(self, nest_id: str, cell_ids: Sequence[str], after: datetime) -> list[Sortie]:
        self.asked.append((nest_id, list(cell_ids)))
        return [_sortie("makeup", nest_id, after, 600.0, list(cell_ids))]


def _sortie(
    sid: str, nest: str, at: datetime, dur: float, cells: list[str] | None = None
) -> Sortie:
    return Sortie(sid, nest, [], cell_ids=cells or [], estimated_duration_s=dur, planned_start=at)


def _nests(*ids: str) -> dict[str, Nest]:
    return {i: Nest(i, 113.4, 22.9) for i in ids}


def test_sorties_fly_in_planned_order_at_their_times() -> None:
    nests = _nests("a", "b")
    adapters = {k: FakeAdapter(n) for k, n in nests.items()}
    sorties = [
        _sortie("a2", "a", T0 + timedelta(hours=2), 1200),
        _sortie("a1", "a", T0 + timedelta(hours=1), 1200),
        _sortie("b1", "b", T0 + timedelta(minutes=30), 1200),
    ]
    flights: list[str] = []
    report = PatrolController(adapters, nests, sink=lambda s, f: flights.append(s.sortie_id)).run(
        sorties
    )
    assert flights == ["b1", "a1", "a2"]
    assert adapters["a"].flown == [("a1", T0 + timedelta(hours=1)), ("a2", T0 + timedelta(hours=2))]
    assert report.outcomes == {"completed": 3}
    assert report.sorties_dropped == []


def test_launch_waits_for_charge() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"], battery=0.3)
    sortie = _sortie("a1", "a", T0, 1500)
    PatrolController({"a": adapter}, nests).run([sortie])
    ((_, launched),) = adapter.flown
    need = 1500 / 3000 + 0.2 + 0.03  # flight + reserve (share of a full battery) + margin
    assert launched == T0 + timedelta(seconds=(need - 0.3) * 1800)


def test_rapid_request_recalls_the_patrol_and_missed_cells_are_made_up() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"])
    planner = Planner()
    patrol = _sortie("a1", "a", T0, 1800, ["c1", "c2", "c3"])
    rapid = _sortie("r1", "a", T0, 300)
    req = RapidRequest("r1", T0 + timedelta(minutes=10), rapid)
    report = PatrolController({"a": adapter}, nests, planner=planner).run([patrol], [req])
    order = [sid for sid, _ in adapter.flown]
    assert order == ["a1", "r1", "makeup"]
    assert report.outcomes["preempted"] == 1
    assert planner.asked == [("a", ["c2", "c3"])]
    assert report.cells_missed == 2
    assert report.make_up_sorties == 1
    ((rid, delay),) = report.rapid
    assert rid == "r1"
    assert 0 <= delay <= 60


def test_a_rapid_request_that_cannot_launch_is_reported_not_recorded() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"], refuse_until=T0 + timedelta(hours=1))
    recorded: list[str] = []
    req = RapidRequest("r1", T0 + timedelta(minutes=10), _sortie("r1", "a", T0, 300))
    report = PatrolController(
        {"a": adapter}, nests, sink=lambda sortie, flight: recorded.append(sortie.sortie_id)
    ).run([], [req])
    assert recorded == []
    assert report.flights == []
    assert report.rapid == []
    assert report.rapid_failed == [("r1", "wind 14 m/s")]
    assert report.summary()["rapid_not_launched"] == 1


def test_wind_hold_retries_then_flies() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"], refuse_until=T0 + timedelta(minutes=40))
    report = PatrolController({"a": adapter}, nests, config=ControllerConfig(retry_s=900)).run(
        [_sortie("a1", "a", T0, 600)]
    )
    assert adapter.flown == [("a1", T0 + timedelta(minutes=45))]
    assert report.outcomes == {"not_launched": 3, "completed": 1}


def test_wind_hold_past_the_limit_drops_the_sortie() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"], refuse_until=T0 + timedelta(hours=9))
    report = PatrolController(
        {"a": adapter}, nests, config=ControllerConfig(retry_s=1800, max_hold_s=3600)
    ).run([_sortie("a1", "a", T0, 600)])
    assert adapter.flown == []
    assert report.sorties_dropped == ["a1"]


def test_horizon_drops_what_is_left() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"])
    sorties = [_sortie(f"a{i}", "a", T0 + timedelta(hours=i), 600) for i in range(5)]
    report = PatrolController({"a": adapter}, nests).run(sorties, until=T0 + timedelta(hours=2.5))
    assert [s for s, _ in adapter.flown] == ["a0", "a1", "a2"]
    assert report.sorties_dropped == ["a3", "a4"]


def test_unknown_nests_are_refused_with_the_fix() -> None:
    nests = _nests("a")
    with pytest.raises(PatrolError, match="load those nests"):
        PatrolController({"zz": FakeAdapter(Nest("zz", 0, 0))}, nests)
    adapter = FakeAdapter(nests["a"])
    req = RapidRequest("r", T0, replace(_sortie("r", "b", T0, 60)))
    with pytest.raises(PatrolError, match="no adapter"):
        PatrolController({"a": adapter}, nests).run([], [req])


def test_a_make_up_that_fails_again_is_not_made_up_twice() -> None:
    nests = _nests("a")
    adapter = FakeAdapter(nests["a"])
    planner = Planner()
    patrol = _sortie("a1", "a", T0, 1800, ["c1", "c2", "c3"])
    # two requests: the first recalls the patrol, the second recalls its make-up
    reqs = [
        RapidRequest("r1", T0 + timedelta(minutes=10), _sortie("r1", "a", T0, 300)),
        RapidRequest("r2", T0 + timedelta(minutes=17), _sortie("r2", "a", T0, 300)),
    ]
    report = PatrolController({"a": adapter}, nests, planner=planner).run([patrol], reqs)
    assert [sid for sid, _ in adapter.flown] == ["a1", "r1", "makeup", "r2"]
    assert len(planner.asked) == 1
    assert report.make_up_sorties == 1
