"""The seam between the patrol controller and a nest: what an adapter does and reports.

An adapter flies one sortie at a time on its nest's drone and reports what really happened: the
flown track, the frames the camera captured with their pose, the mission items reached, the
battery used and how the flight ended. Times are the vehicle's clock (UTC, timezone-aware): a
simulated nest runs an accelerated clock, a real one the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from missions.fleet.profiles import NestStatus
from missions.planning.sortie import Sortie

__all__ = [
    "Capture",
    "ClosingAdapter",
    "FlightLog",
    "FlightOutcome",
    "NestAdapter",
    "NestState",
    "RecallCheck",
    "TrackPoint",
]


class FlightOutcome(StrEnum):
    """How a flight ended."""

    COMPLETED = "completed"  # every mission item flown, landed at the nest
    LOW_BATTERY = "low_battery"  # the vehicle turned home early on low battery
    LINK_LOST = "link_lost"  # the vehicle lost the link and returned home on its own
    PREEMPTED = "preempted"  # recalled by the controller (rapid response, operator)
    ABORTED = "aborted"  # any other early end (vehicle refused a command, nest fault)
    NOT_LAUNCHED = "not_launched"  # never took off: wind above the launch limit, nest offline


@dataclass(frozen=True)
class TrackPoint:
    t: datetime
    lon: float
    lat: float
    alt_m: float  # above the nest


@dataclass(frozen=True)
class Capture:
    """One camera frame as the vehicle reported it (MAVLink CAMERA_IMAGE_CAPTURED)."""

    index: int
    t: datetime
    lon: float
    lat: float
    alt_m: float  # above the nest
    heading_deg: float  # clockwise from north; the image's "up" direction


@dataclass
class FlightLog:
    """What an adapter reports after a flight (also when it never launched)."""

    sortie_id: str
    nest_id: str
    outcome: FlightOutcome
    started_at: datetime | None = None  # take-off; None when not launched
    ended_at: datetime | None = None  # landed
    track: list[TrackPoint] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)
    reached: list[int] = field(default_factory=list)  # mission item seqs reached, in order
    battery_start: float | None = None  # fraction 0..1
    battery_end: float | None = None
    reason: str = ""  # why it ended early, in words (from STATUSTEXT or the adapter)


@dataclass(frozen=True)
class NestState:
    nest_id: str
    status: NestStatus
    battery: float  # fraction 0..1
    now: datetime  # the nest's clock
    wind_mps: float | None = None


class ClosingAdapter:
    """``with Adapter(...) as nest:`` closes the adapter's link on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


RecallCheck = Callable[[datetime], bool]
"""Asked with the vehicle's time on each telemetry update; ``True`` recalls the drone home."""


class NestAdapter(Protocol):
    """One nest and its drone, as the controller drives it."""

    @property
    def nest_id(self) -> str: ...

    def state(self) -> NestState:
        """Status, battery and clock now."""
        ...

    def wait_until(self, when: datetime) -> NestState:
        """Let time pass until ``when`` (a simulator fast-forwards; a real nest sleeps)."""
        ...

    def fly(self, sortie: Sortie, *, recall: RecallCheck | None = None) -> FlightLog:
        """Upload ``sortie``, launch, follow it to the landing and report the flight.

        Never raises for what happens in the air (link loss, low battery, refusal to launch):
        those are outcomes in the returned log. Raises only when the adapter itself is
        misconfigured (e.g. no vehicle at the address at all).
        """
        ...
