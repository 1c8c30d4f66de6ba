"""Ingest detections: cluster into clues, keep evidence, judge the rules — one transaction.

Side effects (crop files under the evidence directory) live here, not in the service. Crops are
content-addressed, so a retried ingest after a crash leaves no orphans that matter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.clues.clustering import Cluster, MetricFrame, clue_confidence, cluster_detections
from api.clues.config import ClueConfig
from api.clues.detection import Detection, DetectionClass
from api.clues.evidence import store_crop
from api.clues.models import ClueRow, SightingRow
from api.clues.rules import ClueFacts, ObservedArea, PermitArea, judge
from api.clues.service import (
    BBoxDeg,
    Seen,
    candidate_clues,
    load_observed,
    load_permits,
    record_observed_areas,
    sightings_of,
)
from missions.geo.crs import utm_crs_for
from missions.storage import session_scope

__all__ = ["IngestReport", "ingest_detections"]

_M_PER_DEG = 111_000.0


@dataclass
class IngestReport:
    """What an ingest did: counts per outcome and the clue ids touched."""

    detections: int = 0
    clues_created: int = 0
    clues_updated: int = 0
    crops_stored: int = 0
    observed_areas: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    clue_ids: list[int] = field(default_factory=list)


def ingest_detections(
    engine: Engine,
    *,
    detections: Sequence[Detection],
    config: ClueConfig,
    observed: Sequence[tuple[shapely.Geometry, datetime, str]] = (),
    frames_root: Path | None = None,
) -> IngestReport:
    """Merge ``detections`` into stored clues and judge every clue they touched.

    ``observed`` are ground footprints imaged at a time (geometry, aware datetime, source):
    recorded first, they are the "observed clean before" evidence new structures need.
    """
    report = IngestReport(detections=len(detections))
    permits = load_permits(engine)
    with session_scope(engine) as session:
        report.observed_areas = record_observed_areas(session, areas=observed)
        session.flush()
        if not detections:
            return report
        batch = _cluster_batch(session, detections, config)
        history = sightings_of(session, clue_ids=[c.clue_id for c in batch.touched if c.clue_id])
        ctx = _Judging(permits, load_observed(session, bbox=batch.bbox), config)
        rows: list[ClueRow] = []
        for cluster in batch.touched:
            row = batch.rows.get(cluster.clue_id) if cluster.clue_id else None
            if row is None:
                report.clues_created += 1
            else:
                report.clues_updated += 1
            members = [detections[i] for i in cluster.members]
            seen = history.get(cluster.clue_id or -1, []) + [
                Seen(d.source, d.score, d.observed_at, d.light) for d in members
            ]
            rows.append(_merge(session, row, cluster, members=members, seen=seen, ctx=ctx))
        session.flush()  # one round of INSERTs for the new clues: their ids for the sightings
        for cluster, row in zip(batch.touched, rows, strict=True):
            for i in cluster.members:
                report.crops_stored += _add_sighting(
                    session, row.id, detections[i], config, frames_root
                )
            report.by_status[row.status] += 1
            report.clue_ids.append(row.id)
    return report


@dataclass(frozen=True)
class _Judging:
    permits: list[PermitArea]
    observed: list[ObservedArea]
    config: ClueConfig


def _merge(
    session: Session,
    row: ClueRow | None,
    cluster: Cluster,
    *,
    members: list[Detection],
    seen: list[Seen],
    ctx: _Judging,
) -> ClueRow:
    """Create or update one clue from its cluster and judge it again on all its sightings."""
    old = [row.geom] if row is not None else []
    footprint = shapely.union_all([*old, *(d.ground for d in members)])
    if row is None:
        row = ClueRow(detection_class=cluster.detection_class.value, rules=[])
        session.add(row)
    _update_row(row, footprint, seen)
    verdict = judge(
        ClueFacts(
            cluster.detection_class,
            footprint,
            [s.observed_at for s in seen],
            lights=[s.light for s in seen],
            scores=[s.score for s in seen],
        ),
        permits=ctx.permits,
        observed=ctx.observed,
        config=ctx.config,
    )
    row.status = verdict.status.value
    row.category = verdict.category.value if verdict.category else None
    row.rules = [f.model_dump(mode="json") for f in verdict.firings]
    return row


@dataclass
class _Batch:
    bbox: BBoxDeg
    rows: dict[int, ClueRow]
    touched: list[Cluster]


def _cluster_batch(session: Session, detections: Sequence[Detection], config: ClueConfig) -> _Batch:
    """Cluster the batch against the stored clues near it, in the batch's UTM zone."""
    grounds = [d.ground for d in detections]
    bbox = BBoxDeg.around(grounds, (config.merge_distance_m * 2 + 50.0) / _M_PER_DEG)
    metric = MetricFrame(utm_crs_for((bbox.minx + bbox.maxx) / 2, (bbox.miny + bbox.maxy) / 2))
    since = min(d.observed_at for d in detections) - timedelta(seconds=config.max_gap_s)
    rows = {r.id: r for r in candidate_clues(session, bbox=bbox, seen_since=since)}
    existing = [
        Cluster(DetectionClass(r.detection_class), metric.to_metric(r.geom), r.last_seen_at, r.id)
        for r in rows.values()
    ]
    clusters = cluster_detections(
        detections,
        list(metric.to_metric(np.asarray(grounds, dtype=object))),
        existing,
        merge_distance_m=config.merge_distance_m,
        max_gap_s=config.max_gap_s,
    )
    return _Batch(bbox, rows, [c for c in clusters if c.members])


def _update_row(row: ClueRow, footprint: shapely.Geometry, seen: list[Seen]) -> None:
    times = [s.observed_at for s in seen]
    centre = shapely.centroid(footprint)
    row.geom = footprint
    row.minx, row.miny, row.maxx, row.maxy = (float(v) for v in shapely.bounds(footprint))
    row.lon, row.lat = centre.x, centre.y
    row.first_seen_at = min(times)
    row.last_seen_at = max(times)
    row.sighting_count = len(seen)
    row.confidence = clue_confidence(s.score for s in seen)


def _add_sighting(
    session: Session, clue_id: int, det: Detection, config: ClueConfig, frames_root: Path | None
) -> int:
    crop = None
    if det.frame_path and det.pixel_box and config.evidence_dir is not None:
        frame = Path(det.frame_path)
        if not frame.is_absolute() and frames_root is not None:
            frame = frames_root / frame
        crop = store_crop(
            frame,
            det.pixel_box,
            config.evidence_dir,
            margin_frac=config.crop_margin_frac,
            min_margin_px=config.crop_min_margin_px,
            quality=config.jpeg_quality,
        )
    session.add(
        SightingRow(
            clue_id=clue_id,
            score=det.score,
            source=det.source,
            frame_path=det.frame_path,
            observed_at=det.observed_at,
            pixel_box=list(det.pixel_box) if det.pixel_box else None,
            light=det.light,
            crop_sha256=crop.sha256 if crop else None,
            crop_path=crop.relative_path if crop else None,
            geom=det.ground,
        )
    )
    return 1 if crop else 0
