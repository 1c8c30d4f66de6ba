"""Faults for a simulated day, on demand: nests offline, wind above the launch limit, a battery
that drains faster than the model (→ low-battery return) and link losses.

Windows are offsets from the day's start on nests picked by their index in id order, so a
plan is independent of the district. :class:`FaultyNest` wraps an adapter and sets the
simulator's knobs for the nest's current time before every launch; link losses are scheduled
on the simulated vehicle up front.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from missions.planning.sortie import Sortie
from patrol.adapters.base import FlightLog, NestAdapter, NestState, RecallCheck
from patrol.sim.nests import SimNest

__all__ = ["FaultPlan", "FaultWindow", "FaultyNest", "LinkLoss"]


@dataclass(frozen=True)
class FaultWindow:
    nest: int  # index of the nest in id order (modulo the fleet size)
    from_h: float
    to_h: float
    value: float = 0.0  # wind m/s or drain factor

    def covers(self, start: datetime, t: datetime) -> bool:
        h = (t - start).total_seconds() / 3600.0
        return self.from_h <= h < self.to_h


@dataclass(frozen=True)
class LinkLoss:
    nest: int
    at_h: float
    duration_s: float


@dataclass(frozen=True)
class FaultPlan:
    """Defaults: one of each fault, at hours of the day that stress a different nest each."""

    offline: tuple[FaultWindow, ...] = (FaultWindow(3, 10.0, 12.0),)
    wind: tuple[FaultWindow, ...] = (FaultWindow(5, 2.0, 3.5, 14.0),)
    drain: tuple[FaultWindow, ...] = (FaultWindow(9, 16.0, 17.0, 1.6),)
    link_loss: tuple[LinkLoss, ...] = (LinkLoss(7, 14.2, 90.0),)
    calm_wind_mps: float = 3.0

    def describe(self) -> dict[str, list[str]]:
        def w(ws: tuple[FaultWindow, ...], what: str) -> list[str]:
            return [f"nest #{x.nest}: {what} {x.from_h:g}–{x.to_h:g} h" for x in ws]

        return {
            "offline": w(self.offline, "offline"),
            "wind": [
                f"nest #{x.nest}: {x.value:g} m/s {x.from_h:g}–{x.to_h:g} h" for x in self.wind
            ],
            "battery_drain": [
                f"nest #{x.nest}: ×{x.value:g} {x.from_h:g}–{x.to_h:g} h" for x in self.drain
            ],
            "link_loss": [
                f"nest #{x.nest}: at {x.at_h:g} h for {x.duration_s:g} s" for x in self.link_loss
            ],
        }


NO_FAULTS = FaultPlan(offline=(), wind=(), drain=(), link_loss=())


@dataclass
class FaultyNest:
    """An adapter whose simulated nest gets the plan's knobs set before each launch."""

    inner: NestAdapter
    sim: SimNest
    index: int
    fleet_size: int
    plan: FaultPlan
    start: datetime
    fired: list[str] = field(default_factory=list)

    @property
    def nest_id(self) -> str:
        return self.inner.nest_id

    def state(self) -> NestState:
        return self.inner.state()

    def wait_until(self, when: datetime) -> NestState:
        return self.inner.wait_until(when)

    def _mine(self, windows: tuple[FaultWindow, ...], t: datetime) -> FaultWindow | None:
        return next(
            (
                w
                for w in windows
                if w.nest % self.fleet_size == self.index and w.covers(self.start, t)
            ),
            None,
        )

    def fly(self, sortie: Sortie, *, recall: RecallCheck | None = None) -> FlightLog:
        t = self.inner.state().now
        offline = self._mine(self.plan.offline, t)
        wind = self._mine(self.plan.wind, t)
        drain = self._mine(self.plan.drain, t)
        self.sim.set_online(offline is None)
        self.sim.set_wind(wind.value if wind else self.plan.calm_wind_mps)
        self.sim.set_drain_factor(drain.value if drain else 1.0)
        for name, hit in (("offline", offline), ("wind", wind), ("drain", drain)):
            if hit is not None:
                self.fired.append(f"{name}@{t.isoformat()}")
        try:
            return self.inner.fly(sortie, recall=recall)
        finally:
            # the window is checked again at the next launch; meanwhile the nest answers
            self.sim.set_online(True)


def schedule_link_losses(
    sims: list[SimNest], plan: FaultPlan, start: datetime
) -> list[tuple[str, datetime]]:
    out = []
    for loss in plan.link_loss:
        sim = sims[loss.nest % len(sims)]
        at = start + timedelta(hours=loss.at_h)
        sim.schedule_link_loss(at, loss.duration_s)
        out.append((sim.nest_id, at))
    return out
