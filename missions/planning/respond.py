"""Rapid response: which nest reaches a reported point first, and when.

For each nest whose drone is on the ground (not offline, not on a scheduled sortie): the
no-fly-aware path to the point around the zones active from now on, the ETA (launch overhead,
then the path at maximum speed), and whether the battery it holds now covers the trip out at
maximum speed, a loiter over the point and the way back at cruise speed with the reserve intact.
The battery a nest holds follows its mode (normal ≈57 %, standby ≈92 %) and recharges linearly
after a scheduled sortie. The answer lists the scheduled sorties the response would pre-empt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from missions.fleet.profiles import BatteryMode, Nest, NestStatus
from missions.planning.energy import landing_s, takeoff_s
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan
from missions.planning.nofly import active_zones, obstacle_union
from missions.planning.sortie import Sortie
from missions.planning.transit import XY, TransitPlanner, path_length_m

__all__ = ["RapidResponder", "Response", "ResponseConfig", "ResponseOption"]

_STORED_CHARGE = {BatteryMode.NORMAL: 0.575, BatteryMode.STANDBY: 0.925}


@dataclass(frozen=True)
class ResponseConfig:
    loiter_s: float = 120.0  # time over the point to look
    window_s: float = 3600.0  # no-fly zones active within this long after the call count


@dataclass(frozen=True)
class ResponseOption:
    nest_id: str
    eta_s: float
    path_m: float
    needed_s: float  # battery time for out + loiter + back, take-off and landing
    available_s: float  # battery time the drone holds now, above the reserve
    path_xy: tuple[XY, ...]
    preempts: tuple[str, ...]  # scheduled sortie ids this flight and its recharge displace


@dataclass(frozen=True)
class Response:
    """The best option (None when no nest can go) and every feasible one, fastest first."""

    best: ResponseOption | None
    options: tuple[ResponseOption, ...]
    reason: str = ""


class RapidResponder:
    """Answers "send the nearest drone" queries against a fleet plan and the scheduled sorties.

    Only the plan's nests, zones, survey altitude and frame are used, so a plan from
    :func:`~missions.planning.fleetplan.base_plan` (no packing) serves as well as a full one.
    """

    def __init__(
        self,
        plan: FleetPlan,
        *,
        sorties: Sequence[Sortie] = (),
        config: ResponseConfig | None = None,
    ) -> None:
        self.plan = plan
        self.config = config or ResponseConfig()
        self._by_nest: dict[str, list[Sortie]] = {n.nest_id: [] for n in plan.nests}
        for s in sorties:
            self._by_nest.setdefault(s.nest_id, []).append(s)
        self._transit: dict[tuple[int, ...], TransitPlanner] = {}

    def transit_at(self, at: datetime) -> TransitPlanner:
        """Transit planner around the zones active in the response window (cached per set)."""
        end = at + timedelta(seconds=self.config.window_s)
        zones = active_zones(
            self.plan.zones,
            start=at,
            end=end,
            tz=self.plan.tz,
            max_altitude_m=self.plan.survey.altitude_m,
        )
        key = tuple(sorted(self.plan.zones.index(z) for z in zones))
        if key not in self._transit:
            self._transit[key] = TransitPlanner(obstacle_union(zones, self.plan.margin_m))
        return self._transit[key]

    def _battery_s(self, nest: Nest, at: datetime) -> float | None:
        """Flight time above the reserve the drone holds at ``at``; None if it is airborne."""
        p = nest.profile
        stored = _STORED_CHARGE[nest.battery_mode]
        for s in self._by_nest.get(nest.nest_id, []):
            start, end = s.planned_start, s.planned_end
            if start is None or end is None:
                continue
            if start <= at < end:
                return None
            if end <= at:
                gained = (at - end).total_seconds() / p.charge_time_s * (1.0 - p.reserve_fraction)
                stored = min(stored, p.reserve_fraction + gained)
        return max(0.0, (stored - p.reserve_fraction) * p.usable_endurance_s)

    def _option(
        self, i: int, target: XY, at: datetime, transit: TransitPlanner
    ) -> ResponseOption | None:
        nest = self.plan.nests[i]
        if nest.status in (NestStatus.OFFLINE, NestStatus.FLYING):
            return None
        battery = self._battery_s(nest, at)
        if battery is None:
            return None
        p, alt = nest.profile, self.plan.survey.altitude_m
        if math.dist(self.plan.nests_xy[i], target) > p.max_radius_m:
            return None
        path = transit.path(self.plan.nests_xy[i], target)
        length = path_length_m(path)
        if length > p.max_radius_m * 1.5:
            return None
        out_s = length / p.max_speed_mps
        needed = takeoff_s(p, alt) + out_s + self.config.loiter_s + length / p.cruise_speed_mps
        needed += landing_s(p, alt)
        if needed > battery:
            return None
        busy_until = at + timedelta(seconds=needed + p.charge_time_s * needed / p.plannable_s)
        preempts = tuple(
            s.sortie_id
            for s in self._by_nest.get(nest.nest_id, [])
            if s.planned_start is not None
            and s.planned_end is not None
            and s.planned_start < busy_until
            and s.planned_end > at
        )
        eta = takeoff_s(p, alt) + out_s
        return ResponseOption(nest.nest_id, eta, length, needed, battery, tuple(path), preempts)

    def respond(self, *, lon: float, lat: float, at: datetime) -> Response:
        """The nest with the earliest arrival at (lon, lat) (WGS-84) for a call at ``at``."""
        if at.tzinfo is None:
            raise PlanningError("the call time must be timezone-aware, e.g. 2026-11-24T10:00+08:00")
        target = self.plan.frame.point(lon, lat)
        transit = self.transit_at(at)
        if transit.inside(target):
            return Response(None, (), "the point lies inside an active no-fly zone (or its margin)")
        order = sorted(
            range(len(self.plan.nests)), key=lambda i: math.dist(self.plan.nests_xy[i], target)
        )
        options: list[ResponseOption] = []
        for i in order:
            nest = self.plan.nests[i]
            lower = (
                takeoff_s(nest.profile, self.plan.survey.altitude_m)
                + math.dist(self.plan.nests_xy[i], target) / nest.profile.max_speed_mps
            )
            if options and lower > min(o.eta_s for o in options) and len(options) >= 3:
                break  # farther nests cannot win; three alternatives are enough
            try:
                opt = self._option(i, target, at, transit)
            except PlanningError:
                continue
            if opt is not None:
                options.append(opt)
        options.sort(key=lambda o: o.eta_s)
        if not options:
            return Response(None, (), "no available nest has the range and battery to go now")
        return Response(options[0], tuple(options))
