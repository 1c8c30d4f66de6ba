"""Detections as an RFC 7946 GeoJSON FeatureCollection (WGS-84 lon/lat), with checkpointing.

A long batch appends each finished file to a JSON-lines checkpoint next to the output; an
interrupted run started again with the same options resumes after the last finished file, and
the GeoJSON is written (atomically) only when the batch completes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from detection.errors import DetectionError
from detection.inference.pipeline import FileOutcome, GeoDetection

COORD_DECIMALS = 7  # ~1 cm: finer than any box we can place


def _round(coords: Any) -> Any:
    if isinstance(coords, float):
        return round(coords, COORD_DECIMALS)
    return [_round(c) for c in coords]


def to_feature(det: GeoDetection) -> dict[str, Any]:
    """One detection as a Feature; geometry is null when it could not be placed."""
    geometry: dict[str, Any] | None = None
    if det.polygon is not None:
        geo = mapping(det.polygon)
        geometry = {"type": geo["type"], "coordinates": _round(geo["coordinates"])}
    d = det.detection
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "class": d.class_name,
            "class_index": d.class_index,
            "score": round(d.score, 4),
            "source": str(det.source),
            "frame_time_s": det.frame_time_s,
            "box_xyxy_px": [round(v, 1) for v in d.box_xyxy_px],
            "light": None if det.light is None else round(det.light, 3),
        },
    }


def write_geojson(
    path: Path, features: Iterable[Mapping[str, Any]], skipped: Iterable[Mapping[str, Any]]
) -> None:
    """Write a FeatureCollection atomically; skipped files go in a ``skipped`` member."""
    collection = {"type": "FeatureCollection", "features": list(features), "skipped": list(skipped)}
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(collection, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


@dataclass
class Checkpoint:
    """Append-only record of finished files for one output, tied to the run's options."""

    path: Path
    options: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(cls, output: Path, options: dict[str, Any]) -> Checkpoint:
        """Load the checkpoint of ``output`` if one exists; refuse it if options changed."""
        path = output.with_name(output.name + ".progress.jsonl")
        if not path.exists():
            path.write_text(json.dumps({"options": options}) + "\n", "utf-8")
            return cls(path, options)
        lines = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
        if not lines or lines[0].get("options") != options:
            raise DetectionError(
                f"{path} records an interrupted run with other options; rerun with the same "
                "options to resume it, or delete the file to start again"
            )
        return cls(path, options, lines[1:])

    @property
    def done(self) -> set[str]:
        """Sources already finished (processed or skipped)."""
        return {r["source"] for r in self.records}

    def append(self, outcome: FileOutcome) -> None:
        """Record one finished file; flushed at once so a crash loses at most this file."""
        record = {
            "source": str(outcome.path),
            "skipped_reason": outcome.skipped_reason,
            "tiles_total": outcome.tiles_total,
            "tiles_skipped": outcome.tiles_skipped,
            "features": [to_feature(d) for d in outcome.detections],
        }
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.records.append(record)

    def finish(self, output: Path) -> None:
        """Write the GeoJSON of every recorded file, then drop the checkpoint."""
        features = [f for r in self.records for f in r["features"]]
        skipped = [
            {"source": r["source"], "reason": r["skipped_reason"]}
            for r in self.records
            if r["skipped_reason"] is not None
        ]
        write_geojson(output, features, skipped)
        self.path.unlink()
