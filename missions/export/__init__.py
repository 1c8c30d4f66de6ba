"""Sortie exports: QGC WPL 110, QGC ``.plan``, DJI WPML ``.kmz`` and GeoJSON.

These are pure serializers; flight-safety validation runs before them (``missions.planning``).
Every MAVLink-speaking output (WPL, ``.plan``, the MAVLink upload) is built from the same
:func:`mission_items`, so they cannot disagree. Errors: :class:`ExportError` (a
:class:`missions.errors.MissionsError`).
"""

from missions.export._errors import ExportError
from missions.export._geojson import to_geojson
from missions.export._items import (
    LandingMode,
    MavCmd,
    MavFrame,
    MissionItem,
    MissionOptions,
    PrecisionLand,
    SpeedType,
    mission_items,
)
from missions.export._qgc_plan import MavAutopilot, to_qgc_plan
from missions.export._wpl import WPL_HEADER, to_wpl
from missions.export._wpml import (
    KML_NS,
    TEMPLATE_PATH,
    WAYLINES_PATH,
    WPML_NS,
    DjiAircraft,
    FinishAction,
    RcLostAction,
    WpmlOptions,
    to_wpml_kmz,
)
from missions.export._write import ExportFormat, render, write_export

__all__ = [
    "KML_NS",
    "TEMPLATE_PATH",
    "WAYLINES_PATH",
    "WPL_HEADER",
    "WPML_NS",
    "DjiAircraft",
    "ExportError",
    "ExportFormat",
    "FinishAction",
    "LandingMode",
    "MavAutopilot",
    "MavCmd",
    "MavFrame",
    "MissionItem",
    "MissionOptions",
    "PrecisionLand",
    "RcLostAction",
    "SpeedType",
    "WpmlOptions",
    "mission_items",
    "render",
    "to_geojson",
    "to_qgc_plan",
    "to_wpl",
    "to_wpml_kmz",
    "write_export",
]
