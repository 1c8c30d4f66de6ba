"""Exceptions raised by :mod:`missions.planning`.

Every message says what was wrong and how to fix it::

    MissionsError (missions.errors)
    └── PlanningError                  the request cannot be planned as given (bad input,
        │                              unreachable target, nothing to fly)
        └── SafetyViolation            a sortie breaks a flight-safety rule; names the sortie,
                                       the waypoint index and the rule (never exported or flown)
"""

from __future__ import annotations

from enum import StrEnum

from missions.errors import MissionsError

__all__ = ["PlanningError", "SafetyRule", "SafetyViolation"]


class PlanningError(MissionsError):
    """A plan cannot be made from the given inputs."""


class SafetyRule(StrEnum):
    """The flight-safety rules every sortie is checked against before export or upload."""

    NOFLY_WAYPOINT = "nofly-waypoint"  # a waypoint lies inside an active no-fly zone
    NOFLY_LEG = "nofly-leg"  # a leg crosses an active no-fly zone
    ALTITUDE_CEILING = "altitude-ceiling"  # a waypoint is above the legal ceiling
    ENERGY = "energy"  # the sortie needs more than capacity minus reserve
    START_AT_NEST = "start-at-nest"  # the first waypoint is not the nest
    END_AT_NEST = "end-at-nest"  # the last waypoint is not a landing at the nest
    EMPTY = "empty"  # a sortie with fewer than two waypoints


class SafetyViolation(PlanningError):  # noqa: N818 (the name the issue uses)
    """A sortie breaks a safety rule. It must be re-planned, never exported or flown."""

    def __init__(
        self, *, sortie_id: str, waypoint_index: int | None, rule: SafetyRule, detail: str, fix: str
    ) -> None:
        self.sortie_id = sortie_id
        self.waypoint_index = waypoint_index
        self.rule = rule
        where = "sortie" if waypoint_index is None else f"waypoint {waypoint_index}"
        super().__init__(
            f"sortie {sortie_id}, {where}: rule {rule.value} violated: {detail} (fix: {fix})"
        )
