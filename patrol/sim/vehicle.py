"""The simulated drone: flight, battery and camera as a pure model (no I/O, no wall clock).

The model flies MAVLink mission items the way the planner's energy model
(:mod:`missions.planning.energy`) assumes a dock-class quadcopter flies: a take-off that lasts
the profile's launch overhead (dock opening, then the climb), straight legs at the commanded
speed, a fixed pause at every turn sharper than the planner's threshold, a descent and a
precision landing. Battery use is flight time (``drain_factor`` / ``rated_endurance_s`` per
second), so a sortie the planner accepts lands with what the planner expected. The camera fires
every ``spacing`` metres flown while ``DO_SET_CAM_TRIGG_DIST`` is active.

Time is a float of seconds since the Unix epoch that only moves when :meth:`SimVehicle.advance`
is called; the MAVLink side (:mod:`patrol.sim.mavlink_vehicle`) decides how fast.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from missions.export import MavCmd
from missions.fleet.profiles import Nest
from missions.planning.energy import TURN_THRESHOLD_DEG
from patrol.errors import PatrolError
from patrol.mavlink import DEG_E7, MissionItemInt

__all__ = [
    "FrameCaptured",
    "ItemReached",
    "Landed",
    "Notice",
    "Phase",
    "ReturnReason",
    "Severity",
    "SimError",
    "SimVehicle",
    "VehicleEvent",
]

EARTH_RADIUS_M = 6_371_008.8
_EPS = 1e-9
_AMSL_FRAMES = (0, 5)  # MAV_FRAME_GLOBAL(_INT): altitude above mean sea level


class SimError(PatrolError):
    """A simulator control call that cannot be done now, or a simulator that failed to start."""


class Phase(StrEnum):
    GROUNDED = "grounded"  # in the nest, charging
    LAUNCHING = "launching"  # dock opening, then the climb
    MISSION = "mission"  # flying the mission items
    RETURNING = "returning"  # flying home early (recall, low battery, link loss, mission end)
    LANDING = "landing"  # descent and precision landing


class ReturnReason(StrEnum):
    RECALL = "recall"
    LOW_BATTERY = "low_battery"
    LINK_LOST = "link_lost"
    MISSION_END = "mission_end"  # the mission ended without landing: the vehicle goes home


class Severity(IntEnum):
    """``MAV_SEVERITY`` of a notice (STATUSTEXT)."""

    CRITICAL = 2
    WARNING = 4
    NOTICE = 5
    INFO = 6


@dataclass(frozen=True)
class ItemReached:
    seq: int
    t_s: float
    lat: float
    lon: float
    alt_m: float


@dataclass(frozen=True)
class FrameCaptured:
    index: int
    t_s: float
    lat: float
    lon: float
    alt_m: float
    heading_deg: float


@dataclass(frozen=True)
class Notice:
    t_s: float
    text: str  # at most 50 characters: one STATUSTEXT
    severity: Severity = Severity.NOTICE


@dataclass(frozen=True)
class Landed:
    t_s: float
    lat: float
    lon: float


VehicleEvent = ItemReached | FrameCaptured | Notice | Landed


@dataclass
class _Task:
    """A straight move from ``start`` to ``end`` (lat, lon, alt) in ``duration_s``; a wait when
    they are equal. ``length_m`` is horizontal; the camera only fires on horizontal moves."""

    phase: Phase
    start: tuple[float, float, float]
    end: tuple[float, float, float]
    duration_s: float
    length_m: float = 0.0
    heading_deg: float = 0.0
    elapsed_s: float = 0.0

    def at(self, elapsed_s: float) -> tuple[float, float, float]:
        f = 1.0 if self.duration_s <= _EPS else min(1.0, elapsed_s / self.duration_s)
        s, e = self.start, self.end
        return (s[0] + f * (e[0] - s[0]), s[1] + f * (e[1] - s[1]), s[2] + f * (e[2] - s[2]))


def _offset_m(lat0: float, lon0: float, lat1: float, lon1: float) -> tuple[float, float]:
    """(east, north) metres from point 0 to point 1: equirectangular at the mid-latitude, exact
    to millimetres over a nest's 10 km radius."""
    k = math.radians(1.0) * EARTH_RADIUS_M
    mid = math.radians((lat0 + lat1) / 2)
    return (lon1 - lon0) * k * math.cos(mid), (lat1 - lat0) * k


def _turn_deg(a: float, b: float) -> float:
    return abs((b - a + 180.0) % 360.0 - 180.0)


class SimVehicle:
    """One nest's drone. Drive it with :meth:`start_mission` and :meth:`advance`."""

    def __init__(self, nest: Nest, *, clock_s: float, battery: float = 1.0) -> None:
        self.nest = nest
        self.profile = nest.profile
        self.clock_s = clock_s
        self.battery = battery
        self.phase = Phase.GROUNDED
        self.lat, self.lon, self.alt_m = nest.lat, nest.lon, 0.0
        self.heading_deg = 0.0
        self.wind_mps = 0.0
        self.drain_factor = 1.0
        self.offline = False
        self.mission: list[MissionItemInt] = []
        self.current_seq = 0
        self.return_reason: ReturnReason | None = None
        self.captures = 0  # frames taken since boot (CAMERA_IMAGE_CAPTURED image_index)
        self.missed_triggers = 0  # triggers the camera skipped: too soon after the last frame
        self._link_faults: list[tuple[float, float]] = []
        self._link_down_since: float | None = None
        self._failsafe_s = 5.0
        self._tasks: deque[_Task] = deque()
        self._active: int | None = None  # the NAV item whose tasks are queued
        self._lands = False  # the queued tasks end on the ground
        self._speed_mps = self.profile.cruise_speed_mps
        self._last_heading: float | None = None
        self._spacing_m = 0.0
        self._cam_dist_m = 0.0
        self._last_capture_s = -math.inf

    # --- state -----------------------------------------------------------------------------

    @property
    def flying(self) -> bool:
        return self.phase is not Phase.GROUNDED

    @property
    def drain_per_s(self) -> float:
        return self.drain_factor / self.profile.rated_endurance_s

    @property
    def velocity_ne_up(self) -> tuple[float, float, float]:
        """(north, east, up) m/s of the task being flown; zero on the ground or waiting."""
        if not self._tasks or self._tasks[0].duration_s <= _EPS:
            return 0.0, 0.0, 0.0
        t = self._tasks[0]
        east, north = _offset_m(t.start[0], t.start[1], t.end[0], t.end[1])
        return north / t.duration_s, east / t.duration_s, (t.end[2] - t.start[2]) / t.duration_s

    def link_up(self, t_s: float | None = None) -> bool:
        t = self.clock_s if t_s is None else t_s
        return not self.offline and not any(a <= t < b for a, b in self._link_faults)

    @property
    def recovering_link(self) -> bool:
        """The link went down in flight and is not back: the clock must keep moving (also after
        the landing) until it is, so the vehicle can be heard again."""
        return self._link_down_since is not None

    def next_link_change_s(self) -> float | None:
        times = [x for ab in self._link_faults for x in ab if x > self.clock_s + _EPS]
        return min(times, default=None)

    # --- control ---------------------------------------------------------------------------

    def schedule_link_loss(self, at_s: float, duration_s: float, failsafe_s: float) -> None:
        if duration_s <= 0:
            raise SimError(f"link loss duration must be positive, got {duration_s} s")
        self._link_faults.append((at_s, at_s + duration_s))
        self._failsafe_s = failsafe_s

    def load_mission(self, items: list[MissionItemInt]) -> None:
        if self.flying:
            raise SimError(
                f"nest {self.nest.nest_id}: cannot replace the mission in flight; wait for landing"
            )
        self.mission = list(items)
        self.current_seq = 0

    def start_mission(self) -> str | None:
        """Launch; returns None when launched, else why the vehicle refuses (≤ 50 characters)."""
        p = self.profile
        if self.flying:
            return "already flying"
        if not self.mission:
            return "no mission loaded: upload one first"
        if self.wind_mps > p.wind_launch_limit_mps:
            limit = p.wind_launch_limit_mps
            return f"wind {self.wind_mps:.1f} m/s above launch limit {limit:.1f} m/s: hold"
        need = p.reserve_fraction + (p.launch_overhead_s + p.landing_overhead_s) * self.drain_per_s
        if self.battery < need:
            return f"battery {self.battery:.0%} < launch minimum {need:.0%}"
        first = self.mission[0]
        self.current_seq = 0 if first.command == MavCmd.NAV_TAKEOFF or len(self.mission) == 1 else 1
        self.phase = Phase.LAUNCHING
        self.return_reason = None
        self._speed_mps = p.cruise_speed_mps
        self._last_heading = None
        self._spacing_m, self._cam_dist_m = 0.0, 0.0
        self._tasks.clear()
        self._active, self._lands = None, False
        return None

    def return_home(self, reason: ReturnReason) -> list[VehicleEvent]:
        """Abandon the mission and fly home to land (no-op when already on the way down)."""
        if self.phase in (Phase.GROUNDED, Phase.RETURNING, Phase.LANDING):
            return []
        self._go_home(reason)
        texts = {
            ReturnReason.RECALL: "recalled: returning home",
            ReturnReason.LOW_BATTERY: f"low battery {self.battery:.0%}: returning home",
            ReturnReason.LINK_LOST: "link lost: failsafe return home",
            ReturnReason.MISSION_END: "mission ended: returning home",
        }
        sev = Severity.NOTICE if reason is ReturnReason.MISSION_END else Severity.WARNING
        return [Notice(self.clock_s, texts[reason], sev)]

    def rest(self, dt_s: float) -> None:
        """Let ``dt_s`` pass on the ground: the nest charges linearly to full in charge_time_s."""
        if self.flying:
            raise SimError(f"nest {self.nest.nest_id} is flying; rest only on the ground")
        self.battery = min(1.0, self.battery + dt_s / self.profile.charge_time_s)
        self.clock_s += dt_s

    # --- flight ----------------------------------------------------------------------------

    def advance(self, dt_s: float) -> list[VehicleEvent]:
        """Fly for ``dt_s`` simulated seconds (or charge, on the ground); returns what happened.

        Stops early at the landing: the clock is then the landing time.
        """
        events: list[VehicleEvent] = []
        if not self.flying:
            self.rest(dt_s)
            self._check_link(events)
            return events
        left = dt_s
        while self.flying and (left > _EPS or not self._tasks):
            if not self._tasks:
                self._next(events)
                continue
            task = self._tasks[0]
            step = min(left, task.duration_s - task.elapsed_s)
            self._fly(task, step, events)
            left -= step
            if task.elapsed_s >= task.duration_s - _EPS:
                self._tasks.popleft()
            self._check_link(events)
            self._check_battery(events)
        return events

    def _fly(self, task: _Task, step: float, events: list[VehicleEvent]) -> None:
        self.phase = task.phase
        if task.length_m > 0:
            self.heading_deg = task.heading_deg
            if self._spacing_m > 0 and step > 0:
                self._capture(task, step, events)
        task.elapsed_s += step
        self.lat, self.lon, self.alt_m = task.at(task.elapsed_s)
        self.clock_s += step
        self.battery = max(0.0, self.battery - step * self.drain_per_s)

    def _capture(self, task: _Task, step: float, events: list[VehicleEvent]) -> None:
        per_s = task.length_m / task.duration_s
        flown_m = step * per_s
        offset = self._spacing_m - self._cam_dist_m
        last = None
        while offset <= flown_m + 1e-6:
            t_s = self.clock_s + offset / per_s
            if t_s - self._last_capture_s >= self.profile.camera.min_trigger_interval_s - 1e-6:
                lat, lon, alt = task.at(task.elapsed_s + offset / per_s)
                events.append(FrameCaptured(self.captures, t_s, lat, lon, alt, task.heading_deg))
                self.captures += 1
                self._last_capture_s = t_s
            else:
                self.missed_triggers += 1
            last = offset
            offset += self._spacing_m
        self._cam_dist_m = self._cam_dist_m + flown_m if last is None else flown_m - last

    def _next(self, events: list[VehicleEvent]) -> None:
        """The queued tasks are done: finish the item (or land), then start the next item."""
        if self._active is not None:
            pos = (self.lat, self.lon, self.alt_m)
            events.append(ItemReached(self._active, self.clock_s, *pos))
            self._active = None
            self.current_seq += 1
        if self._lands:
            self._land(events)
            return
        if self.current_seq >= len(self.mission):
            self._go_home(ReturnReason.MISSION_END)
            events.append(Notice(self.clock_s, "mission ended: returning home"))
            return
        self._start_item(self.mission[self.current_seq])

    def _start_item(self, item: MissionItemInt) -> None:
        lat, lon, alt = item.x / DEG_E7, item.y / DEG_E7, item.z
        if item.frame in _AMSL_FRAMES:
            alt -= self.nest.ground_elevation_m
        match item.command:
            case MavCmd.NAV_TAKEOFF:
                climb_s = max(0.0, alt - self.alt_m) / self.profile.climb_rate_mps
                here = (self.lat, self.lon, self.alt_m)
                self._wait(Phase.LAUNCHING, max(0.0, self.profile.launch_overhead_s - climb_s))
                self._tasks.append(_Task(Phase.LAUNCHING, here, (*here[:2], alt), climb_s))
            case MavCmd.NAV_WAYPOINT:
                self._move(Phase.MISSION, (lat, lon, alt), self._speed_mps)
            case MavCmd.NAV_LOITER_TIME:
                self._move(Phase.MISSION, (lat, lon, alt), self._speed_mps)
                self._wait(Phase.MISSION, max(0.0, item.param1))
            case MavCmd.NAV_LAND:
                self._move(Phase.MISSION, (lat, lon, self.alt_m), self._speed_mps)
                self._descend_and_land()
            case MavCmd.NAV_RETURN_TO_LAUNCH:
                self._go_home(None)
            case MavCmd.DO_CHANGE_SPEED:
                if item.param2 > 0:
                    self._speed_mps = min(item.param2, self.profile.max_speed_mps)
            case MavCmd.DO_SET_CAM_TRIGG_DIST:
                self._spacing_m = max(0.0, item.param1)
                # param3 = 1: the first frame now (on the next horizontal move, heading known)
                self._cam_dist_m = self._spacing_m if item.param3 > 0 else 0.0
            case _:
                pass  # not simulated: skipped like an unsupported DO command
        if self._tasks:
            self._active = item.seq
        else:
            self.current_seq += 1

    def _wait(self, phase: Phase, duration_s: float) -> None:
        here = (self.lat, self.lon, self.alt_m)
        if self._tasks:
            here = self._tasks[-1].end
        self._tasks.append(_Task(phase, here, here, duration_s))

    def _move(self, phase: Phase, to: tuple[float, float, float], speed_mps: float) -> None:
        start = self._tasks[-1].end if self._tasks else (self.lat, self.lon, self.alt_m)
        east, north = _offset_m(start[0], start[1], to[0], to[1])
        length = math.hypot(east, north)
        dz = to[2] - start[2]
        rate = self.profile.climb_rate_mps if dz > 0 else self.profile.descent_rate_mps
        duration = max(length / max(speed_mps, 0.1), abs(dz) / rate)
        heading = math.degrees(math.atan2(east, north)) % 360.0
        if length > 1e-6:
            last = self._last_heading
            if last is not None and _turn_deg(last, heading) > TURN_THRESHOLD_DEG:
                self._wait(phase, self.profile.turn_time_s)
            self._last_heading = heading
        else:
            length = 0.0
        self._tasks.append(_Task(phase, start, to, duration, length, heading))

    def _descend_and_land(self) -> None:
        start = self._tasks[-1].end if self._tasks else (self.lat, self.lon, self.alt_m)
        down_s = max(0.0, start[2]) / self.profile.descent_rate_mps
        self._tasks.append(_Task(Phase.LANDING, start, (start[0], start[1], 0.0), down_s))
        self._wait(Phase.LANDING, self.profile.landing_overhead_s)
        self._lands = True

    def _go_home(self, reason: ReturnReason | None) -> None:
        """Queue the way home; ``reason`` None: an RTL mission item (the mission's own end)."""
        self._tasks.clear()
        self._spacing_m = 0.0
        if reason is not None:
            self._active = None
            self.return_reason = reason
            self.phase = Phase.RETURNING
        home = (self.nest.lat, self.nest.lon, self.alt_m)
        phase = Phase.RETURNING if reason is not None else Phase.MISSION
        self._move(phase, home, self.profile.cruise_speed_mps)
        self._descend_and_land()

    def _land(self, events: list[VehicleEvent]) -> None:
        self.phase = Phase.GROUNDED
        self.alt_m = 0.0
        self._tasks.clear()
        self._lands = False
        events.append(Landed(self.clock_s, self.lat, self.lon))

    def home_need(self) -> float:
        """Battery needed to fly home from here and land with the reserve left."""
        p = self.profile
        east, north = _offset_m(self.lat, self.lon, self.nest.lat, self.nest.lon)
        way_s = math.hypot(east, north) / p.cruise_speed_mps + p.turn_time_s
        land_s = max(0.0, self.alt_m) / p.descent_rate_mps + p.landing_overhead_s
        return p.reserve_fraction + (way_s + land_s) * self.drain_per_s

    def _check_battery(self, events: list[VehicleEvent]) -> None:
        if self.phase is Phase.MISSION and self.battery < self.home_need():
            events.extend(self.return_home(ReturnReason.LOW_BATTERY))

    def _check_link(self, events: list[VehicleEvent]) -> None:
        """Link loss in flight: after ``failsafe_s`` without a link the vehicle returns home;
        when the link comes back it says what happened."""
        if self.link_up():
            if self._link_down_since is not None:
                lost_s = self.clock_s - self._link_down_since
                self._link_down_since = None
                if self.return_reason is ReturnReason.LINK_LOST:
                    text = f"link lost {lost_s:.0f} s: failsafe returned home"
                    events.append(Notice(self.clock_s, text, Severity.WARNING))
            return
        if self._link_down_since is None:
            if self.flying:
                self._link_down_since = self.clock_s
        elif self.clock_s - self._link_down_since >= self._failsafe_s and self.phase in (
            Phase.LAUNCHING,
            Phase.MISSION,
        ):
            events.extend(self.return_home(ReturnReason.LINK_LOST))
