"""Score a simulated day against the world's ground truth.

A detection *finds* a violation when it has the violation's class, overlaps its footprint
(the overlap is at least ``min_overlap`` of the smaller of the two areas) and was taken while
the violation was there; a view *images* it when at least half of its footprint is inside.
Per violation we keep when it was first active (its appearance, or the first night hour for
night-only work), whether any view imaged it while active (did the schedule give the detector
a chance?) and when it was first found. Recall "within one revisit interval" counts a violation
only when the interval after its appearance ended inside the day (or the violation went away),
so the last hours of a day do not count as misses, and only when it appeared *during* the day:
a pre-existing violation (a shed built weeks before) has no appearance inside the day to time
from — dating it to the day's first minute would call it hours "late" whenever the day starts
at night. The times to detection (median, p90) are over the new violations for the same
reason; pre-existing ones get their own recall (found at any time of the day).

A *false clue* is an active clue (one that would become a ticket) that overlaps no violation of
its class in the same way — legal activity inside a permit included, since that one must be
suppressed. A violation is *clued* when an active clue of its class overlaps it that way: what
an officer would get, after the clue rules (a detection alone may still be suppressed or kept
as a baseline record). Its time is the clue's first sighting at or after the violation's
first active moment (a clue started earlier by a look-alike on the same spot, or by the
survey the day before, gets no credit for that earlier sighting).

A false-clue rate from a small simulated area is coarse (one clue is many per 100 km²), so it
comes with its one-sided 95 % Poisson upper bound and the area·days a zero count would need to
show a target (:func:`poisson_upper_95`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from pyproj import CRS
from scipy.stats import chi2

from api.clues.detection import Detection
from api.simday.imaging import ViewRecord
from missions.geo.layers import DEFAULT_REVISIT_S, PriorityClass
from missions.planning.frame import MetricFrame
from patrol.sim.dynamics import Violation
from patrol.sim.world import SimWorld

__all__ = ["ClueFact", "DayScore", "ViolationResult", "poisson_upper_95", "score_day"]

_STEP = timedelta(minutes=5)


@dataclass(frozen=True)
class ClueFact:
    clue_id: int
    detection_class: str
    status: str
    geom: shapely.Geometry  # WGS-84
    confidence: float = 0.0
    first_seen_at: datetime | None = None
    sightings: tuple[datetime, ...] = ()  # when each of its detections was taken


@dataclass(frozen=True)
class ViolationResult:
    violation: Violation
    first_active: datetime | None  # None: never present during the day
    imaged_at: datetime | None  # first view that saw it while active
    found_at: datetime | None  # first detection of it
    clued_at: datetime | None = None  # first sighting of an active clue over it

    @property
    def latency_s(self) -> float | None:
        if self.found_at is None or self.first_active is None:
            return None
        return (self.found_at - self.first_active).total_seconds()

    @property
    def clue_latency_s(self) -> float | None:
        if self.clued_at is None or self.first_active is None:
            return None
        return max(0.0, (self.clued_at - self.first_active).total_seconds())


@dataclass(frozen=True)
class DayScore:
    results: list[ViolationResult]
    false_clues: list[ClueFact]
    clues_by_status: dict[str, int]
    start: datetime
    end: datetime
    simulated_km2: float

    @property
    def exposure(self) -> float:
        """Simulated area times duration, in units of 100 km²·days (the rate's denominator)."""
        days = (self.end - self.start).total_seconds() / 86_400.0
        return max(self.simulated_km2, 0.0) / 100.0 * max(days, 0.0)

    def false_count(self, min_confidence: float = 0.0) -> int:
        return sum(1 for c in self.false_clues if c.confidence >= min_confidence)

    def false_per_100km2_day(self, min_confidence: float = 0.0) -> float:
        """False active clues (at or above ``min_confidence``) per 100 km² per day."""
        if self.exposure <= 0:
            return 0.0
        return self.false_count(min_confidence) / self.exposure

    def false_rate_bounds(self, target: float, min_confidence: float = 0.0) -> dict[str, float]:
        """The false-clue rate with its resolution and its one-sided 95 % upper bound.

        ``per_false_clue``: what one false clue in this run adds to the rate;
        ``km2_days_to_show_target``: simulated area·days over which zero false clues would put
        the upper bound at ``target`` (per 100 km² per day).
        """
        n = self.false_count(min_confidence)
        exposure = self.exposure
        if exposure <= 0:
            return {"count": float(n)}
        return {
            "count": float(n),
            "per_false_clue": round(1.0 / exposure, 1),
            "upper_95": round(poisson_upper_95(n) / exposure, 1),
            "km2_days_to_show_target": round(poisson_upper_95(0) / target * 100.0, 1),
        }

    def table(self, key: str) -> list[dict[str, object]]:
        """Rows per ``key`` (``class`` or ``priority``) plus an ``all`` row."""
        groups: dict[str, list[ViolationResult]] = defaultdict(list)
        for r in self.results:
            if r.first_active is None or r.violation.legal:
                continue
            k = r.violation.label.value if key == "class" else r.violation.priority
            groups[k].append(r)
            groups["all"].append(r)
        return [self._row(k, rs) for k, rs in sorted(groups.items(), key=lambda kv: kv[0] == "all")]

    def _row(self, key: str, rs: list[ViolationResult]) -> dict[str, object]:
        new = [r for r in rs if not r.violation.preexisting]
        old = [r for r in rs if r.violation.preexisting]
        lat = np.array([r.latency_s for r in new if r.latency_s is not None], dtype=float)
        due = [r for r in new if _judgeable(r, self.end)]
        in_time = [r for r in due if _in_time(r.latency_s, r.violation)]
        clued_in_time = [r for r in due if _in_time(r.clue_latency_s, r.violation)]
        return {
            "group": key,
            "violations": len(rs),
            "new": len(new),
            "preexisting": len(old),
            "recall_preexisting": _share(sum(r.found_at is not None for r in old), len(old)),
            "imaged_while_active": _share(sum(r.imaged_at is not None for r in rs), len(rs)),
            "recall": _share(sum(r.found_at is not None for r in rs), len(rs)),
            "recall_of_imaged": _share(
                sum(r.found_at is not None for r in rs),
                sum(r.imaged_at is not None for r in rs),
            ),
            "judged_within_revisit": len(due),
            "recall_within_revisit": _share(len(in_time), len(due)),
            "clued": _share(sum(r.clued_at is not None for r in rs), len(rs)),
            "clued_within_revisit": _share(len(clued_in_time), len(due)),
            "median_h": round(float(np.median(lat)) / 3600.0, 2) if len(lat) else None,
            "p90_h": round(float(np.percentile(lat, 90)) / 3600.0, 2) if len(lat) else None,
        }


def _share(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def _revisit(v: Violation) -> timedelta:
    return timedelta(seconds=DEFAULT_REVISIT_S[PriorityClass(v.priority)])


def _judgeable(r: ViolationResult, end: datetime) -> bool:
    if r.first_active is None:
        return False
    deadline = r.first_active + _revisit(r.violation)
    gone = r.violation.disappears_at is not None and r.violation.disappears_at <= deadline
    return deadline <= end or gone


def _in_time(latency_s: float | None, v: Violation) -> bool:
    return latency_s is not None and latency_s <= _revisit(v).total_seconds()


def poisson_upper_95(n: int) -> float:
    """One-sided 95 % upper confidence bound of a Poisson mean after observing ``n`` events."""
    return float(chi2.ppf(0.95, 2 * (n + 1)) / 2.0)


def _first_active(v: Violation, start: datetime, end: datetime) -> datetime | None:
    t = max(start, v.appears_at)
    stop = min(end, v.disappears_at) if v.disappears_at is not None else end
    while t < stop:
        if v.active_at(t):
            return t
        t += _STEP
    return None


class _Index:
    """Violation footprints in metres, in an STRtree for fast spatial candidates."""

    def __init__(self, violations: Sequence[Violation], crs: CRS) -> None:
        self.frame = MetricFrame(crs)
        self.violations = list(violations)
        self.shapes = np.array([self._metric(v.footprint) for v in violations], dtype=object)
        self.tree = shapely.STRtree(self.shapes)

    def _metric(self, geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda xy: self.frame.to_metric(xy[:, 0], xy[:, 1]))

    def overlapping(self, geom: shapely.Geometry, min_overlap: float) -> Iterable[int]:
        """Violations whose footprint overlaps ``geom`` (WGS-84) by ``min_overlap``."""
        g = self._metric(geom)
        for i in self.tree.query(g):
            fp = self.shapes[i]
            small = min(float(shapely.area(g)), float(shapely.area(fp)))
            if small > 0 and shapely.area(shapely.intersection(g, fp)) >= min_overlap * small:
                yield int(i)

    def imaged(self, geom: shapely.Geometry) -> Iterable[int]:
        """Violations with at least half of their footprint inside ``geom`` (WGS-84)."""
        g = self._metric(geom)
        for i in self.tree.query(g):
            fp = self.shapes[i]
            if shapely.area(shapely.intersection(g, fp)) >= 0.5 * shapely.area(fp):
                yield int(i)


def score_day(
    world: SimWorld,
    views: Sequence[ViewRecord],
    clues: Sequence[ClueFact],
    *,
    crs: CRS,
    min_overlap: float = 0.3,
) -> DayScore:
    start, end = world.start, world.end
    violations = list(world.violations)
    index = _Index(violations, crs)
    first = {v.violation_id: _first_active(v, start, end) for v in violations}
    imaged: dict[str, datetime] = {}
    found: dict[str, datetime] = {}
    for view in sorted(views, key=lambda v: v.taken_at):
        for i in index.imaged(view.ground):
            v = violations[i]
            if v.active_at(view.taken_at):
                imaged.setdefault(v.violation_id, view.taken_at)
        for det in view.detections:
            _match(det, index, found, min_overlap)
    false = []
    clued: dict[str, datetime] = {}
    statuses: dict[str, int] = defaultdict(int)
    for c in clues:
        statuses[c.status] += 1
        if c.status != "active":
            continue
        hits = [
            violations[i]
            for i in index.overlapping(c.geom, min_overlap)
            if violations[i].label.value == c.detection_class and not violations[i].legal
        ]
        if not hits:
            false.append(c)
        for v in hits:
            seen = _clued_time(c, first[v.violation_id], end)
            if seen is not None and (v.violation_id not in clued or seen < clued[v.violation_id]):
                clued[v.violation_id] = seen
    results = [
        ViolationResult(
            v,
            first[v.violation_id],
            imaged.get(v.violation_id),
            found.get(v.violation_id),
            clued.get(v.violation_id),
        )
        for v in violations
    ]
    return DayScore(results, false, dict(statuses), start, end, world.simulated_area_km2)


def _clued_time(c: ClueFact, first_active: datetime | None, end: datetime) -> datetime | None:
    """The clue's first sighting at or after ``first_active`` (``None``: none was)."""
    if not c.sightings:  # sightings unknown: its first one
        return c.first_seen_at or end
    after = [t for t in c.sightings if first_active is None or t >= first_active]
    return min(after) if after else None


def _match(det: Detection, index: _Index, found: dict[str, datetime], min_overlap: float) -> None:
    for i in index.overlapping(det.ground, min_overlap):
        v = index.violations[i]
        if v.label.value != det.detection_class.value or not v.active_at(det.observed_at):
            continue
        if v.violation_id not in found or det.observed_at < found[v.violation_id]:
            found[v.violation_id] = det.observed_at
