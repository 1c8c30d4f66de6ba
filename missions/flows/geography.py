"""Import a geography layer into the database, with the checks that need the stored district."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from sqlalchemy import Engine

from missions.errors import FeatureProblem, GeographyInputError
from missions.geo.crs import InputCrs
from missions.geo.layers import LayerKind
from missions.geo.reader import LayerImport, read_layer
from missions.storage import load_boundary, save_layer

__all__ = ["ImportSummary", "import_layer"]


@dataclass
class ImportSummary:
    kind: LayerKind
    path: Path
    source_crs: str
    stored: int
    notes: list[FeatureProblem] = field(default_factory=list)
    rejected: list[FeatureProblem] = field(default_factory=list)


def _duplicate_codes(layer: LayerImport) -> list[FeatureProblem]:
    codes = layer.frame["code"].astype(str).to_numpy()
    seen: dict[str, int] = {}
    problems = []
    for pos, code in enumerate(codes):
        index = layer.source_index[pos]
        if code in seen:
            problems.append(
                FeatureProblem(
                    index,
                    f"jurisdiction code {code!r} repeats feature {seen[code]}",
                    "give every jurisdiction a unique code",
                )
            )
        else:
            seen[code] = index
    return problems


def _outside_notes(layer: LayerImport, boundary: shapely.Geometry) -> list[FeatureProblem]:
    geoms = np.asarray(layer.frame.geometry.values, dtype=object)
    outside = ~shapely.intersects(geoms, boundary)
    return [
        FeatureProblem(
            layer.source_index[pos],
            "lies entirely outside the district boundary (kept: it may still matter, e.g. for "
            "transit legs)",
            "check the coordinates and --input-crs if it should be inside",
        )
        for pos in np.flatnonzero(outside)
    ]


def import_layer(
    engine: Engine,
    path: Path | str,
    kind: LayerKind,
    *,
    input_crs: InputCrs | None,
    tz: ZoneInfo,
    skip_invalid: bool = False,
) -> ImportSummary:
    """Validate ``path`` as layer ``kind`` and replace that layer in the database."""
    layer = read_layer(path, kind, input_crs=input_crs, tz=tz, skip_invalid=skip_invalid)
    if kind is LayerKind.JURISDICTIONS:
        duplicates = _duplicate_codes(layer)
        if duplicates:
            raise GeographyInputError(layer.path, duplicates)
    notes = list(layer.notes)
    if kind is not LayerKind.BOUNDARY:
        boundary = load_boundary(engine)
        if boundary is not None:
            notes.extend(_outside_notes(layer, boundary))
    stored = save_layer(engine, kind, layer.frame, source=str(layer.path))
    return ImportSummary(kind, layer.path, layer.source_crs, stored, notes, layer.rejected)
