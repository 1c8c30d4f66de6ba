"""One entry point that writes a sortie to a file in any export format (used by the CLI)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path

from missions.export._errors import ExportError
from missions.export._geojson import to_geojson
from missions.export._qgc_plan import to_qgc_plan
from missions.export._wpl import to_wpl
from missions.export._wpml import to_wpml_kmz
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie


class ExportFormat(StrEnum):
    """File formats a sortie can be exported to; the value is also the usual file suffix."""

    WPL = "wpl"  # QGC WPL 110 (.waypoints / .txt)
    PLAN = "plan"  # QGroundControl .plan JSON
    KMZ = "kmz"  # DJI WPML
    GEOJSON = "geojson"


def render(sortie: Sortie, nest: Nest, fmt: ExportFormat) -> bytes:
    """The file's bytes, so callers that do not write files (an API response) share the code."""
    match fmt:
        case ExportFormat.WPL:
            return to_wpl(sortie, nest).encode("utf-8")
        case ExportFormat.PLAN:
            return (json.dumps(to_qgc_plan(sortie, nest), indent=2, allow_nan=False) + "\n").encode(
                "utf-8"
            )
        case ExportFormat.KMZ:
            return to_wpml_kmz(sortie, nest)
        case ExportFormat.GEOJSON:
            return (json.dumps(to_geojson(sortie), indent=2, allow_nan=False) + "\n").encode(
                "utf-8"
            )
    raise ExportError(  # pragma: no cover - only reachable with a value outside the enum
        f"unknown export format {fmt!r}; use one of {', '.join(f.value for f in ExportFormat)}"
    )


def write_export(sortie: Sortie, nest: Nest, fmt: ExportFormat, path: Path | str) -> Path:
    """Write the sortie to ``path`` atomically (temp file + rename), so a reader never sees half
    a mission file; returns the path written."""
    data = render(sortie, nest, fmt)
    target = Path(path)
    if not target.parent.is_dir():
        raise ExportError(
            f"cannot write {target}: folder {target.parent} does not exist. "
            "Fix: create the folder or choose another output path."
        )
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ExportError(
            f"cannot write {target}: {e.strerror}. Fix: check the path and its permissions."
        ) from e
    return target
