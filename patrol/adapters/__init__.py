"""Nest adapters: how the patrol controller flies a sortie on a nest (simulator, MAVLink)."""

from patrol.adapters.base import (
    Capture,
    FlightLog,
    FlightOutcome,
    NestAdapter,
    NestState,
    RecallCheck,
    TrackPoint,
)

__all__ = [
    "Capture",
    "FlightLog",
    "FlightOutcome",
    "NestAdapter",
    "NestState",
    "RecallCheck",
    "TrackPoint",
]
