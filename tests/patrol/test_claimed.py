"""Two controllers fly one stored schedule: every sortie flown once, its end recorded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from missions.fleet.profiles import Nest, NestStatus
from missions.planning.sortie import Sortie, Waypoint, WaypointAction
from missions.storage.models import SortieRow
from missions.storage.sorties import save_sorties
from patrol.adapters.base import FlightLog, FlightOutcome, NestState, RecallCheck
from patrol.claimed import fly_claimed
from patrol.controller import PatrolController

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
LON, LAT = 113.39, 22.94


@dataclass
class InstantNest:
    """Flies every sortie instantly; the given sortie ids are refused (e.g. wind)."""

    nest: Nest
    refuse: frozenset[str] = frozenset()
    now: datetime = T0
    flown: list[str] = field(default_factory=list)

    @property
    def nest_id(self) -> str:
        return self.nest.nest_id

    def state(self) -> NestState:
        return NestState(self.nest_id, NestStatus.AVAILABLE, 1.0, self.now)

    def wait_until(self, when: datetime) -> NestState:
        self.now = max(self.now, when)
        return self.state()

    def fly(self, sortie: Sortie, *, recall: RecallCheck | None = None) -> FlightLog:
        if sortie.sortie_id in self.refuse:
            return FlightLog(sortie.sortie_id, self.nest_id, FlightOutcome.NOT_LAUNCHED)
        self.flown.append(sortie.sortie_id)
        end = self.now + timedelta(seconds=sortie.estimated_duration_s)
        log = FlightLog(
            sortie.sortie_id,
            self.nest_id,
            FlightOutcome.COMPLETED,
            started_at=self.now,
            ended_at=end,
        )
        self.now = end
        return log


def _sorties(n: int) -> list[Sortie]:
    wps = [
        Waypoint(LON, LAT, 50.0, 10.0, WaypointAction.TAKEOFF),
        Waypoint(LON + 0.001, LAT, 50.0, 10.0),
        Waypoint(LON, LAT, 0.0, 2.0, WaypointAction.LAND),
    ]
    return [
        Sortie(f"s-{i:03d}", "n1", wps, ["c"], 60.0, T0 + timedelta(minutes=i)) for i in range(n)
    ]


def test_two_controllers_fly_each_sortie_once(engine: Engine) -> None:
    nests = {"n1": Nest("n1", LON, LAT)}
    save_sorties(engine, _sorties(40), ["core"] * 40)
    refused = frozenset({"s-007"})
    adapters = [InstantNest(nests["n1"], refused), InstantNest(nests["n1"], refused)]
    now = T0 + timedelta(hours=1)

    def work(i: int) -> None:
        controller = PatrolController({"n1": adapters[i]}, nests, config=None)
        for _ in range(10):
            fly_claimed(engine, controller, worker_id=f"w{i}", now=now, limit=5)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flown = adapters[0].flown + adapters[1].flown
    print(f"\n[claimed] w0 flew {len(adapters[0].flown)}, w1 flew {len(adapters[1].flown)}")
    assert sorted(flown) == sorted(s.sortie_id for s in _sorties(40) if s.sortie_id not in refused)
    with engine.connect() as conn:
        states = dict(conn.execute(select(SortieRow.sortie_id, SortieRow.state)).all())
    assert states["s-007"] == "failed"
    assert {v for k, v in states.items() if k != "s-007"} == {"flown"}
