"""Space-time clustering of detections into one cluster per real-world object.

Pure functions over metric geometries (metres, a UTM CRS): a detection joins the nearest
cluster of the same class whose footprint is within ``merge_distance_m`` (overlap is distance 0)
and whose last sighting is at most ``max_gap_s`` earlier; otherwise it starts a new cluster.
Detections are taken in time order so the result does not depend on file order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from api.clues.detection import Detection, DetectionClass
from missions.geo.crs import WGS84

__all__ = ["Cluster", "MetricFrame", "clue_confidence", "cluster_detections"]


@dataclass(frozen=True)
class MetricFrame:
    """WGS-84 → a metric CRS (metres), vectorised over shapely geometries or arrays of them."""

    crs: CRS

    def to_metric(self, geoms: Any) -> Any:
        fwd = _transformer(self.crs.to_wkt())
        return shapely.transform(geoms, lambda xy: np.column_stack(fwd.transform(*xy.T)))


@lru_cache(maxsize=8)
def _transformer(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(WGS84, CRS.from_wkt(crs_wkt), always_xy=True)


@dataclass
class Cluster:
    """An object: an existing clue (``clue_id``) or a new one, and the detections it gained."""

    detection_class: DetectionClass
    footprint_m: shapely.Geometry
    last_seen_at: datetime
    clue_id: int | None = None
    members: list[int] = field(default_factory=list)


def cluster_detections(
    detections: Sequence[Detection],
    grounds_m: Sequence[shapely.Geometry],
    existing: list[Cluster],
    *,
    merge_distance_m: float,
    max_gap_s: float,
) -> list[Cluster]:
    """Assign each detection to a cluster; returns existing and new clusters (index-aligned).

    Candidates are prefiltered on bounding boxes grown by the merge distance (kept in arrays,
    so a batch of n detections costs O(n) vectorised tests, not O(n²) Python comparisons).
    """
    clusters = list(existing)
    index = _BoxIndex(len(existing) + len(detections))
    for c in clusters:
        index.add(c)
    order = sorted(range(len(detections)), key=lambda i: detections[i].observed_at)
    for i in order:
        det = detections[i]
        near = index.candidates(det, grounds_m[i], merge_distance_m, max_gap_s)
        best = _nearest([clusters[k] for k in near], grounds_m[i], merge_distance_m)
        if best is None:
            clusters.append(Cluster(det.detection_class, grounds_m[i], det.observed_at, None, [i]))
            index.add(clusters[-1])
            continue
        k = int(near[best])
        c = clusters[k]
        c.footprint_m = shapely.union(c.footprint_m, grounds_m[i])
        c.last_seen_at = max(c.last_seen_at, det.observed_at)
        c.members.append(i)
        index.update(k, c)
    return clusters


class _BoxIndex:
    """Bounds, class and last sighting of every cluster, as arrays for vectorised prefilters."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.bounds = np.zeros((max(capacity, 1), 4))
        self.classes = np.zeros(max(capacity, 1), dtype=object)
        self.last_s = np.zeros(max(capacity, 1))

    def add(self, c: Cluster) -> None:
        self.update(self.n, c)
        self.n += 1

    def update(self, k: int, c: Cluster) -> None:
        self.bounds[k] = shapely.bounds(c.footprint_m)
        self.classes[k] = c.detection_class
        self.last_s[k] = c.last_seen_at.timestamp()

    def candidates(
        self, det: Detection, ground_m: shapely.Geometry, grow_m: float, max_gap_s: float
    ) -> NDArray[np.intp]:
        x0, y0, x1, y1 = shapely.bounds(ground_m)
        b = self.bounds[: self.n]
        hit = (
            (b[:, 0] <= x1 + grow_m)
            & (b[:, 2] >= x0 - grow_m)
            & (b[:, 1] <= y1 + grow_m)
            & (b[:, 3] >= y0 - grow_m)
            & (self.classes[: self.n] == det.detection_class)
            & (np.abs(self.last_s[: self.n] - det.observed_at.timestamp()) <= max_gap_s)
        )
        return np.flatnonzero(hit)


def _nearest(
    candidates: list[Cluster], ground_m: shapely.Geometry, merge_distance_m: float
) -> int | None:
    if not candidates:
        return None
    dist = shapely.distance(np.asarray([c.footprint_m for c in candidates]), ground_m)
    k = int(np.argmin(dist))
    return k if dist[k] <= merge_distance_m else None


def clue_confidence(scores: Iterable[float]) -> float:
    """Confidence of a clue from its sightings: the best score any frame gave it.

    Not a noisy-OR over sightings: looks at one object by one detector are not independent
    evidence. A confuser the detector scores 0.3 on every pass would reach 0.97 after ten
    passes; on the simulated day such repeats turned most false clues into tickets. How often
    the object was seen is reported beside it (``sighting_count``), not folded in.
    """
    return max(scores, default=0.0)
