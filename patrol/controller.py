"""The patrol controller: flies the day's sorties on the nests' adapters, in simulated or real time.

Each nest works through its own queue of sorties in planned order; nests are independent, so
the controller serves them in the order of their next action and a simulated day needs no
threads. For each sortie it waits for the planned time and for enough charge, flies it through
the nest's adapter, hands the flight to the sink (records, imagery, detection) and returns the
cells a flight missed to the planner, which may give back a make-up sortie flown next.

Rapid-response requests pre-empt: a nest's pending request recalls its drone from a patrol
sortie (the adapter sends it home), then flies before the rest of that nest's queue.
A launch refused (wind above the limit, nest offline) is retried every ``retry_s`` until
``max_hold_s`` after the planned start; then the sortie is dropped and its cells returned.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie
from patrol.adapters.base import FlightLog, FlightOutcome, NestAdapter
from patrol.errors import PatrolError

__all__ = [
    "ControllerConfig",
    "ControllerReport",
    "FlightSink",
    "MakeUpPlanner",
    "PatrolController",
    "RapidRequest",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControllerConfig:
    retry_s: float = 900.0  # wait before retrying a refused launch
    max_hold_s: float = 3 * 3600.0  # give a sortie up this long after its planned start
    battery_margin: float = 0.03  # launch only with the sortie's need plus this much


@dataclass(frozen=True)
class RapidRequest:
    """A "send a drone there" request, answered by the planner with a nest and a sortie."""

    request_id: str
    at: datetime
    sortie: Sortie
    eta_s: float | None = None  # the planner's promise, for the report


class MakeUpPlanner(Protocol):
    """What the controller needs from the planner after a flight that ended early."""

    def missed_cells(self, sortie: Sortie, flight: FlightLog) -> list[str]:
        """Cells of ``sortie`` that ``flight`` did not image."""
        ...

    def make_up(self, nest_id: str, cell_ids: Sequence[str], after: datetime) -> list[Sortie]:
        """Sorties over ``cell_ids`` for ``nest_id`` (validated), to fly after ``after``."""
        ...


FlightSink = Callable[[Sortie, FlightLog], None]


@dataclass
class ControllerReport:
    flights: list[FlightLog] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    sorties_planned: int = 0
    sorties_dropped: list[str] = field(default_factory=list)  # never flown (hold, horizon)
    cells_missed: int = 0  # returned to the planner after early ends
    make_up_sorties: int = 0
    rapid: list[tuple[str, float]] = field(default_factory=list)  # (request id, s to launch)
    rapid_failed: list[tuple[str, str]] = field(default_factory=list)  # (request id, why)

    def summary(self) -> dict[str, object]:
        return {
            "sorties_planned": self.sorties_planned,
            "flights": len(self.flights),
            "outcomes": dict(self.outcomes),
            "sorties_dropped": len(self.sorties_dropped),
            "cells_returned_to_planner": self.cells_missed,
            "make_up_sorties": self.make_up_sorties,
            "rapid_requests": len(self.rapid) + len(self.rapid_failed),
            "rapid_not_launched": len(self.rapid_failed),
        }


@dataclass
class _NestQueue:
    adapter: NestAdapter
    nest: Nest
    sorties: deque[Sortie]
    rapid: deque[RapidRequest]

    def next_time(self, now: datetime) -> datetime | None:
        times = []
        if self.sorties:
            times.append(max(now, _start(self.sorties[0])))
        if self.rapid:
            times.append(max(now, self.rapid[0].at))
        return min(times) if times else None


def _start(sortie: Sortie) -> datetime:
    if sortie.planned_start is None:
        raise PatrolError(f"sortie {sortie.sortie_id} has no planned start; schedule it first")
    return sortie.planned_start


class PatrolController:
    """Runs sorties and rapid requests on ``adapters`` (by nest id) until ``until``."""

    def __init__(
        self,
        adapters: Mapping[str, NestAdapter],
        nests: Mapping[str, Nest],
        *,
        planner: MakeUpPlanner | None = None,
        sink: FlightSink | None = None,
        config: ControllerConfig | None = None,
    ) -> None:
        missing = sorted(set(adapters) - set(nests))
        if missing:
            raise PatrolError(f"adapters for unknown nests {missing}; load those nests first")
        self._adapters = adapters
        self._nests = nests
        self._planner = planner
        self._sink = sink
        self._config = config or ControllerConfig()
        self._make_ups: set[str] = set()

    def run(
        self,
        sorties: Sequence[Sortie],
        rapid: Sequence[RapidRequest] = (),
        *,
        until: datetime | None = None,
    ) -> ControllerReport:
        report = ControllerReport(sorties_planned=len(sorties))
        queues = self._queues(sorties, rapid, report)
        heap: list[tuple[datetime, str]] = []
        for nest_id, q in queues.items():
            t = q.next_time(q.adapter.state().now)
            if t is not None:
                heapq.heappush(heap, (t, nest_id))
        while heap:
            t, nest_id = heapq.heappop(heap)
            q = queues[nest_id]
            if until is not None and t >= until:
                report.sorties_dropped.extend(s.sortie_id for s in q.sorties)
                q.sorties.clear()
                continue
            self._step(q, report)
            nxt = q.next_time(q.adapter.state().now)
            if nxt is not None:
                heapq.heappush(heap, (nxt, nest_id))
        return report

    def _queues(
        self, sorties: Sequence[Sortie], rapid: Sequence[RapidRequest], report: ControllerReport
    ) -> dict[str, _NestQueue]:
        queues = {
            nid: _NestQueue(a, self._nests[nid], deque(), deque())
            for nid, a in self._adapters.items()
        }
        for s in sorted(sorties, key=_start):
            if s.nest_id not in queues:
                report.sorties_dropped.append(s.sortie_id)
                log.warning("sortie %s: no adapter for nest %s", s.sortie_id, s.nest_id)
                continue
            queues[s.nest_id].sorties.append(s)
        for r in sorted(rapid, key=lambda r: r.at):
            if r.sortie.nest_id not in queues:
                raise PatrolError(
                    f"rapid request {r.request_id} names nest {r.sortie.nest_id!r}, "
                    "which has no adapter"
                )
            queues[r.sortie.nest_id].rapid.append(r)
        return queues

    def _step(self, q: _NestQueue, report: ControllerReport) -> None:
        now = q.adapter.state().now
        if q.rapid and (not q.sorties or q.rapid[0].at <= max(now, _start(q.sorties[0]))):
            self._fly_rapid(q, q.rapid.popleft(), report)
            return
        sortie = q.sorties.popleft()
        launch = max(now, _start(sortie), self._charged_at(q, sortie))
        if launch - _start(sortie) > timedelta(seconds=self._config.max_hold_s):
            self._drop(q, sortie, report, "held past the limit")
            return
        q.adapter.wait_until(launch)
        flight = q.adapter.fly(sortie, recall=self._recall_check(q))
        self._after(q, sortie, flight, report)

    def _charged_at(self, q: _NestQueue, sortie: Sortie) -> datetime:
        """When the nest's battery holds what ``sortie`` needs (the nest charges linearly)."""
        state = q.adapter.state()
        p = q.nest.profile
        # the drone turns home when what is left would not bring it back with the reserve (a
        # share of the full battery) intact, so it must hold the flight plus that reserve
        need = (
            sortie.estimated_duration_s / p.rated_endurance_s
            + p.reserve_fraction
            + self._config.battery_margin
        )
        need = min(need, 1.0)
        short = max(0.0, need - state.battery)
        return state.now + timedelta(seconds=short * p.charge_time_s)

    def _recall_check(self, q: _NestQueue) -> Callable[[datetime], bool]:
        pending = q.rapid[0].at if q.rapid else None
        return lambda t: pending is not None and t >= pending

    def _fly_rapid(self, q: _NestQueue, req: RapidRequest, report: ControllerReport) -> None:
        state = q.adapter.wait_until(max(q.adapter.state().now, req.at))
        sortie = replace(req.sortie, planned_start=state.now)
        flight = q.adapter.fly(sortie)
        if flight.outcome is FlightOutcome.NOT_LAUNCHED:  # nothing flew: no flight to record
            report.outcomes[flight.outcome.value] += 1
            report.rapid_failed.append((req.request_id, flight.reason or "launch refused"))
            return
        report.rapid.append((req.request_id, (state.now - req.at).total_seconds()))
        self._record(sortie, flight, report)

    def _after(
        self, q: _NestQueue, sortie: Sortie, flight: FlightLog, report: ControllerReport
    ) -> None:
        if flight.outcome is FlightOutcome.NOT_LAUNCHED:
            report.outcomes[flight.outcome.value] += 1
            retry = q.adapter.state().now + timedelta(seconds=self._config.retry_s)
            if retry - _start(sortie) > timedelta(seconds=self._config.max_hold_s):
                self._drop(q, sortie, report, flight.reason or "launch refused")
            else:
                q.adapter.wait_until(retry)
                q.sorties.appendleft(sortie)
            return
        self._record(sortie, flight, report)
        if flight.outcome is not FlightOutcome.COMPLETED:
            self._return_cells(q, sortie, flight, report)

    def _record(self, sortie: Sortie, flight: FlightLog, report: ControllerReport) -> None:
        report.flights.append(flight)
        report.outcomes[flight.outcome.value] += 1
        if self._sink is not None:
            self._sink(sortie, flight)

    def _return_cells(
        self, q: _NestQueue, sortie: Sortie, flight: FlightLog, report: ControllerReport
    ) -> None:
        if self._planner is None or not sortie.cell_ids:
            return
        missed = self._planner.missed_cells(sortie, flight)
        report.cells_missed += len(missed)
        if not missed or sortie.sortie_id in self._make_ups:
            return  # a make-up that fails again leaves its cells to the next plan: no loops
        after = flight.ended_at or q.adapter.state().now
        extra = self._planner.make_up(q.nest.nest_id, missed, after)
        report.make_up_sorties += len(extra)
        self._make_ups.update(s.sortie_id for s in extra)
        for s in reversed(extra):
            q.sorties.appendleft(s)

    def _drop(self, q: _NestQueue, sortie: Sortie, report: ControllerReport, why: str) -> None:
        log.info("sortie %s on %s dropped: %s", sortie.sortie_id, q.nest.nest_id, why)
        report.sorties_dropped.append(sortie.sortie_id)
