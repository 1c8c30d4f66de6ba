"""QGC WPL 110: the plain-text mission format QGroundControl, Mission Planner and MAVProxy read."""

from __future__ import annotations

import math

from missions.export._items import MissionItem, MissionOptions, mission_items
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie

WPL_HEADER = "QGC WPL 110"


def _num(value: float) -> str:
    """Shortest text that reads back to the same float (``nan`` for 'not set', as QGC writes)."""
    return "nan" if math.isnan(value) else repr(float(value))


def _line(item: MissionItem) -> str:
    fields = [
        str(item.seq),
        str(int(item.current)),
        str(int(item.frame)),
        str(int(item.command)),
        _num(item.param1),
        _num(item.param2),
        _num(item.param3),
        _num(item.param4),
        f"{item.lat_deg:.8f}",
        f"{item.lon_deg:.8f}",
        _num(item.alt_m),
        str(int(item.autocontinue)),
    ]
    return "\t".join(fields)


def to_wpl(sortie: Sortie, nest: Nest, *, options: MissionOptions | None = None) -> str:
    """Write a sortie as QGC WPL 110 text, for ground stations that load plain mission files.

    Item 0 is the home position (the nest, absolute altitude); the rest use
    ``GLOBAL_RELATIVE_ALT``, heights above the nest, which is what ``Waypoint.alt_m`` means.
    Lat/lon carry 8 decimals (about 1 mm).
    """
    items = mission_items(sortie, nest, options)
    return "\n".join([WPL_HEADER, *(_line(item) for item in items)]) + "\n"
