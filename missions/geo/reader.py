"""Read a geography layer from GeoJSON, GeoPackage or Shapefile, validated, into WGS-84.

Every problem in a file is collected before anything is rejected, so the user sees them all at
once, each with the feature index and the fix. Invalid polygons are repaired with
``make_valid`` when that changes the area by at most 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from missions.errors import CrsError, FeatureProblem, GeographyInputError
from missions.geo.attrs import parse_attributes
from missions.geo.crs import WGS84, InputCrs, gcj02_to_wgs84_geoms
from missions.geo.layers import LAYER_COLUMNS, LayerKind

__all__ = ["LayerImport", "read_layer", "repair_polygon"]

MAX_REPAIR_AREA_CHANGE = 0.01
_POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass
class LayerImport:
    """A validated layer in WGS-84 with what was repaired, rejected or noticed on the way."""

    kind: LayerKind
    path: Path
    source_crs: str
    frame: gpd.GeoDataFrame
    source_index: list[int]
    notes: list[FeatureProblem] = field(default_factory=list)
    rejected: list[FeatureProblem] = field(default_factory=list)


def repair_polygon(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, float]:
    """``make_valid`` keeping only polygonal parts.

    Returns the result and the relative area change.
    """
    fixed = shapely.make_valid(geom)
    parts = [
        g
        for g in shapely.get_parts(fixed)
        if shapely.get_type_id(g) in (3, 6)  # Polygon, MultiPolygon
    ]
    if not parts:
        return None, 1.0
    out = shapely.union_all(parts)
    before, after = float(shapely.area(geom)), float(shapely.area(out))
    change = abs(after - before) / max(before, after) if max(before, after) > 0 else 1.0
    return out, change


def _read_file(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise GeographyInputError(
            path, [FeatureProblem(None, "file not found", "check the path and the file name")]
        )
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as e:
        raise GeographyInputError(
            path,
            [
                FeatureProblem(
                    None,
                    f"not a readable vector file ({e})",
                    "give a GeoJSON (.geojson), GeoPackage (.gpkg) or Shapefile (.shp)",
                )
            ],
        ) from e
    if len(frame) == 0:
        raise GeographyInputError(
            path, [FeatureProblem(None, "the file has no features", "export the layer again")]
        )
    return frame


def _source_crs(path: Path, frame: gpd.GeoDataFrame, input_crs: InputCrs | None) -> InputCrs:
    if input_crs is not None:
        return input_crs
    if frame.crs is None:
        raise GeographyInputError(
            path,
            [
                FeatureProblem(
                    None,
                    "the file declares no coordinate reference system",
                    "pass --input-crs (gcj02, wgs84 or EPSG:<code>), or add a .prj file",
                )
            ],
        )
    return InputCrs(CRS.from_user_input(frame.crs))


def _range_problem(geom: shapely.Geometry) -> FeatureProblem | None:
    """Lon/lat sanity for geographic input: out of range, or apparently swapped."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    if not all(np.isfinite([minx, miny, maxx, maxy])):
        return FeatureProblem(None, "coordinates are not finite numbers", "remove NaN/inf values")
    lon_ok = minx >= -180 and maxx <= 180
    lat_ok = miny >= -90 and maxy <= 90
    if lon_ok and lat_ok:
        return None
    if minx >= -90 and maxx <= 90 and miny >= -180 and maxy <= 180:
        return FeatureProblem(
            None,
            f"coordinates look swapped (x in [{minx:.4f}, {maxx:.4f}] reads as a latitude, "
            f"y in [{miny:.4f}, {maxy:.4f}] as a longitude)",
            "write longitude first, then latitude (GeoJSON order is lon, lat)",
        )
    return FeatureProblem(
        None,
        f"coordinates out of lon/lat range (bounds {minx:.1f}, {miny:.1f}, {maxx:.1f}, {maxy:.1f})",
        "the data is probably projected: pass its CRS with --input-crs EPSG:<code>",
    )


def _check_geometry(
    i: int, geom: shapely.Geometry | None, geographic: bool
) -> tuple[shapely.Geometry | None, FeatureProblem | None, FeatureProblem | None]:
    """Returns (usable geometry, rejection, note)."""
    if geom is None or shapely.is_empty(geom):
        return (
            None,
            FeatureProblem(i, "geometry is empty", "draw the polygon or drop the feature"),
            None,
        )
    gtype = shapely.get_type_id(geom)
    if gtype not in (3, 6):
        name = type(geom).__name__
        return (
            None,
            FeatureProblem(
                i,
                f"geometry is a {name}, this layer needs Polygon or MultiPolygon",
                "convert it to an area (e.g. buffer points and lines) "
                "or move it to the right layer",
            ),
            None,
        )
    if geographic:
        problem = _range_problem(geom)
        if problem is not None:
            return None, FeatureProblem(i, problem.problem, problem.fix), None
    if shapely.is_valid(geom):
        return geom, None, None
    reason = shapely.is_valid_reason(geom)
    fixed, change = repair_polygon(geom)
    if fixed is None or change > MAX_REPAIR_AREA_CHANGE:
        return (
            None,
            FeatureProblem(
                i,
                f"invalid polygon ({reason}); repair would change its area by {change:.1%}",
                "redraw the polygon without self-intersections (e.g. a bow-tie)",
            ),
            None,
        )
    note = FeatureProblem(
        i,
        f"invalid polygon ({reason}) repaired with make_valid, area change {change:.3%}",
        "none needed; redraw it to silence this note",
    )
    return fixed, None, note


def _to_wgs84(geoms: gpd.GeoSeries, crs: InputCrs) -> gpd.GeoSeries:
    if crs.gcj02:
        values = gcj02_to_wgs84_geoms(np.asarray(geoms.values, dtype=object))
        return gpd.GeoSeries(values, index=geoms.index, crs=WGS84)
    try:
        return geoms.set_crs(crs.crs, allow_override=True).to_crs(WGS84)
    except Exception as e:  # pyproj raises several types; all mean the same to the user
        raise CrsError(f"cannot transform from {crs.label} to WGS-84: {e}") from e


def read_layer(
    path: Path | str,
    kind: LayerKind,
    *,
    input_crs: InputCrs | None = None,
    tz: ZoneInfo,
    skip_invalid: bool = False,
) -> LayerImport:
    """Read and validate one layer file.

    By default any rejected feature rejects the file (a no-fly layer missing a zone is a safety
    risk), listing every problem; ``skip_invalid`` imports the good features and reports the rest.
    """
    path = Path(path)
    frame = _read_file(path)
    crs = _source_crs(path, frame, input_crs)
    geographic = crs.gcj02 or crs.crs.is_geographic
    props = frame.drop(columns=frame.geometry.name).to_dict(orient="records")
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    kept: list[int] = []
    notes: list[FeatureProblem] = []
    rejected: list[FeatureProblem] = []
    for i, (geom, prop) in enumerate(zip(frame.geometry.values, props, strict=True)):
        good, reject, note = _check_geometry(i, geom, geographic)
        values, attr_problems = parse_attributes(kind, prop, tz)
        rejected.extend(FeatureProblem(i, p, f) for p, f in attr_problems)
        if reject is not None:
            rejected.append(reject)
        if note is not None:
            notes.append(note)
        if good is None or attr_problems:
            continue
        rows.append(values)
        geoms.append(good)
        kept.append(i)
    if rejected and (not skip_invalid or not kept):
        raise GeographyInputError(path, rejected)
    wgs = _to_wgs84(gpd.GeoSeries(geoms, crs=crs.crs), crs)
    out = gpd.GeoDataFrame(rows, columns=list(LAYER_COLUMNS[kind]), geometry=wgs.values, crs=WGS84)
    return LayerImport(kind, path, crs.label, out, kept, notes, rejected)
