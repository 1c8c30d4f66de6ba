"""Patrol's tables (flights, frames, cell sightings) and the services that read and write them."""

from patrol.storage.records import (
    FlightRecord,
    FrameRecord,
    load_sightings,
    record_flight,
)

__all__ = ["FlightRecord", "FrameRecord", "load_sightings", "record_flight"]
