"""Coverage for planners: cells with hours since last seen, and the summaries."""

from __future__ import annotations

import json
import math
import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.geography.views import GEOJSON, BBoxQuery, parse_bbox
from api.http.deps import CurrentPrincipal, EngineDep
from api.http.geojson import feature_collection
from patrol.coverage import summarize
from patrol.coverage.flows import current_coverage

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])

AtQuery = Annotated[datetime | None, Query(description="ISO-8601 time of the view (default now)")]
WindowQuery = Annotated[
    float, Query(gt=0, le=24 * 31, description="Window for counts and gaps (h)")
]


class CoverageRow(BaseModel):
    key: str = Field(description="Priority class or jurisdiction code.")
    cells: int
    seen_in_window: int
    within_target: float = Field(description="Fraction of cells seen within their revisit target.")
    worst_gap_h: float
    median_hours_since_seen: float | None


class CoverageStats(BaseModel):
    at: datetime
    window_hours: float
    by_priority: list[CoverageRow]
    by_jurisdiction: list[CoverageRow]


def _rows(frame: Any, key: str) -> list[CoverageRow]:
    out = []
    for rec in frame.to_dict(orient="records"):
        median = rec["median_hours_since_seen"]
        out.append(
            CoverageRow(
                key=str(rec[key]),
                cells=int(rec["cells"]),
                seen_in_window=int(rec["seen_in_window"]),
                within_target=float(rec["within_target"]),
                worst_gap_h=float(rec["worst_gap_h"]),
                median_hours_since_seen=None if math.isnan(median) else float(median),
            )
        )
    return out


def _when(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@router.get("/stats", response_model=CoverageStats)
def stats(
    _: CurrentPrincipal, engine: EngineDep, at: AtQuery = None, window_hours: WindowQuery = 24.0
) -> CoverageStats:
    view = current_coverage(engine, at=_when(at), window_hours=window_hours)
    return CoverageStats(
        at=view.at,
        window_hours=window_hours,
        by_priority=_rows(summarize(view.state, "priority"), "priority"),
        by_jurisdiction=_rows(summarize(view.state, "jurisdiction"), "jurisdiction"),
    )


@router.get("/cells", responses={200: {"content": {GEOJSON: {}}}})
def cells(
    _: CurrentPrincipal,
    engine: EngineDep,
    at: AtQuery = None,
    window_hours: WindowQuery = 24.0,
    bbox: BBoxQuery = None,
) -> Response:
    """Cells with last_seen, count, hours_since_seen, within_target, worst_gap_s."""
    view = current_coverage(engine, at=_when(at), window_hours=window_hours, bbox=parse_bbox(bbox))
    state = view.state
    columns = [
        "cell_id",
        "jurisdiction",
        "priority",
        "revisit_target_s",
        "last_seen",
        "count",
        "hours_since_seen",
        "within_target",
        "worst_gap_s",
        state.geometry.name,
    ]
    body = feature_collection(state[columns], id_column="cell_id", at=view.at.isoformat())
    return Response(json.dumps(body), media_type=GEOJSON)


class ExportFormat(StrEnum):
    GEOJSON = "geojson"
    GPKG = "gpkg"
    CSV = "csv"


_EXPORT_COLUMNS = [
    "cell_id",
    "jurisdiction",
    "priority",
    "area_m2",
    "lon",
    "lat",
    "revisit_target_s",
    "last_seen",
    "count",
    "hours_since_seen",
    "within_target",
    "worst_gap_s",
]
_MEDIA = {
    ExportFormat.GEOJSON: GEOJSON,
    ExportFormat.GPKG: "application/geopackage+sqlite3",
    ExportFormat.CSV: "text/csv",
}


@router.get("/export", responses={200: {"content": {m: {} for m in _MEDIA.values()}}})
def export(
    _: CurrentPrincipal,
    engine: EngineDep,
    format: ExportFormat = ExportFormat.CSV,
    at: AtQuery = None,
    window_hours: WindowQuery = 24.0,
    bbox: BBoxQuery = None,
) -> Response:
    """Coverage per cell to download: CSV (ISO-8601 UTC times, areas in m²), GeoPackage, GeoJSON."""
    view = current_coverage(engine, at=_when(at), window_hours=window_hours, bbox=parse_bbox(bbox))
    frame = view.state[[*_EXPORT_COLUMNS, view.state.geometry.name]].to_crs(4326)
    frame["last_seen"] = [None if pd.isna(t) else t.isoformat() for t in frame["last_seen"]]
    name = f"coverage-{view.at:%Y%m%dT%H%MZ}.{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format is ExportFormat.CSV:
        body = frame.drop(columns=frame.geometry.name).to_csv(index=False)
        return Response(body, media_type=_MEDIA[format], headers=headers)
    if format is ExportFormat.GEOJSON:
        data = json.dumps(feature_collection(frame, id_column="cell_id"))
        return Response(data, media_type=_MEDIA[format], headers=headers)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_file(path, driver="GPKG", layer="coverage", engine="pyogrio")
        return Response(path.read_bytes(), media_type=_MEDIA[format], headers=headers)
