"""What happens to a flight's frames: footprints and records, rendering, storage, detection.

This is the flight sink of a simulated day. Every capture gets a ground footprint and a frame
row (coverage comes from these, not from the plan). The part of each footprint inside the
simulated blocks is rendered, stored by content hash under the data directory and passed to
the detector; which views are rendered depends only on where the camera looked, never on what
the world holds there.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from PIL import Image
from pyproj import CRS
from sqlalchemy import Engine

from api.clues.detection import Detection, DetectionClass
from detection.inference import Detector
from detection.inference.light import relative_light
from detection.inference.slicing import SliceConfig, TileWindow, detect_sliced
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie
from patrol.adapters.base import FlightLog
from patrol.footprints import capture_footprints
from patrol.sim.render import View
from patrol.sim.world import SimWorld
from patrol.storage.records import FlightRecord, FrameRecord, record_flight

__all__ = ["FlightImaging", "ImagingStats", "ViewRecord"]


@dataclass(frozen=True)
class ViewRecord:
    """A rendered view that went to the detector: where, when, what it found."""

    frame_id: str
    block_id: str
    taken_at: datetime
    ground: shapely.Geometry  # WGS-84: the area the detector looked at
    detections: tuple[Detection, ...]


@dataclass
class ImagingStats:
    flights: int = 0
    frames: int = 0
    views: int = 0
    megapixels: float = 0.0
    record_s: float = 0.0
    render_s: float = 0.0
    store_s: float = 0.0
    detect_s: float = 0.0
    tiles: int = 0
    detections: int = 0
    views_records: list[ViewRecord] = field(default_factory=list)


def _store(image: np.ndarray, root: Path) -> Path:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=90)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    path = root / digest[:2] / f"{digest}.jpg"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


class FlightImaging:
    """The controller's flight sink: records each flight and queues its views for detection.

    Detection runs on ``workers`` background threads (ONNX Runtime and most of the rendering
    release the GIL), so the next flight is flown while the last ones' frames are processed and
    one thread renders while another detects. Views come back in any order: consumers sort them
    (by time, frame and block). Call :meth:`finish` at the end.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        world: SimWorld,
        detector: Detector,
        nests: dict[str, Nest],
        crs: CRS,
        imagery_dir: Path,
        slicing: SliceConfig | None = None,
        on_flight: Callable[[FlightLog], None] | None = None,
        workers: int = 2,
    ) -> None:
        self._engine = engine
        self._world = world
        self._blocks = {b.block_id: b.polygon for b in world.blocks}
        self._detector = detector
        self._nests = nests
        self._crs = crs
        self._imagery = imagery_dir
        self._slicing = slicing or SliceConfig()
        self._on_flight = on_flight
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect")
        self._lock = threading.Lock()  # the stats and record lists, shared by the workers
        self._pending: list[Future[None]] = []
        self.stats = ImagingStats()

    def __call__(self, sortie: Sortie, flight: FlightLog) -> None:
        t0 = time.perf_counter()
        flight_id = f"{sortie.sortie_id}@{flight.started_at:%Y%m%dT%H%M%S}"
        camera = self._nests[flight.nest_id].profile.camera
        footprints = capture_footprints(flight.captures, camera, self._crs)
        frames: list[tuple[str, datetime, shapely.Polygon]] = []
        records = []
        for cap, fp in zip(flight.captures, footprints, strict=True):
            if fp is None:
                continue
            frame_id = f"{flight_id}#{cap.index:05d}"
            frames.append((frame_id, cap.t, fp))
            records.append(
                FrameRecord(frame_id, cap.t, fp, lon=cap.lon, lat=cap.lat, alt_m=cap.alt_m)
            )
        record_flight(self._engine, _flight_record(flight_id, sortie, flight), records)
        self.stats.flights += 1
        self.stats.frames += len(records)
        self.stats.record_s += time.perf_counter() - t0
        if frames:
            self._pending.append(self._pool.submit(self._detect_frames, frames))
        if self._on_flight is not None:
            self._on_flight(flight)

    def baseline_survey(self, taken_at: datetime) -> list[ViewRecord]:
        """One nadir look at every simulated block at ``taken_at``: the last survey before the day.

        Each block is rendered whole as the world stands then (only what was there before the
        day: background, look-alikes, pre-existing structures) and detected like any frame;
        every block gets the same look, whatever it holds. The records are returned, not added
        to the day's views: they are the clue engine's history, not part of the day's score.
        """
        out: list[ViewRecord] = []

        def look(block_id: str, polygon: shapely.Polygon) -> None:
            t0 = time.perf_counter()
            views = self._world.views(polygon, taken_at)
            with self._lock:
                self.stats.render_s += time.perf_counter() - t0
            for view in views:
                if view.block_id == block_id:
                    self._detect_view(f"baseline#{block_id}", view, polygon, out)

        jobs = [self._pool.submit(look, b, poly) for b, poly in self._blocks.items()]
        for job in jobs:
            job.result()
        return sorted(out, key=lambda v: (v.taken_at, v.frame_id, v.block_id))

    def _detect_frames(self, frames: list[tuple[str, datetime, shapely.Polygon]]) -> None:
        for frame_id, taken_at, fp in frames:
            t0 = time.perf_counter()
            views = self._world.views(fp, taken_at)
            with self._lock:
                self.stats.render_s += time.perf_counter() - t0
            for view in views:
                ground = shapely.intersection(fp, self._blocks[view.block_id])
                self._detect_view(frame_id, view, ground, self.stats.views_records)

    def _detect_view(
        self, frame_id: str, view: View, ground: shapely.Geometry, records: list[ViewRecord]
    ) -> None:
        t0 = time.perf_counter()
        path = _store(view.image, self._imagery)
        t1 = time.perf_counter()
        image = view.image
        h, w = image.shape[:2]

        def read(tile: TileWindow) -> np.ndarray:
            return np.ascontiguousarray(
                image[
                    tile.row_off : tile.row_off + tile.height,
                    tile.col_off : tile.col_off + tile.width,
                ]
            )

        result = detect_sliced(self._detector, (w, h), read, self._slicing)
        t2 = time.perf_counter()
        boxes = [d.box_xyxy_px for d in result.detections]
        polygons = view.georeferencer().boxes_to_polygons(boxes) if boxes else []
        found = []
        for det, poly in zip(result.detections, polygons, strict=True):
            if poly is None or det.class_name not in DetectionClass.__members__.values():
                continue
            x0, y0, x1, y1 = det.box_xyxy_px
            found.append(
                Detection(
                    detection_class=DetectionClass(det.class_name),
                    score=det.score,
                    source=frame_id,
                    observed_at=view.taken_at,
                    ground=poly,
                    pixel_box=(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))),
                    frame_path=str(path),
                    light=relative_light(read, (w, h), det.box_xyxy_px),
                )
            )
        with self._lock:
            s = self.stats
            s.views += 1
            s.megapixels += h * w / 1e6
            s.store_s += t1 - t0
            s.detect_s += t2 - t1
            s.tiles += result.tiles_total
            s.detections += len(found)
            records.append(ViewRecord(frame_id, view.block_id, view.taken_at, ground, tuple(found)))

    def finish(self) -> None:
        """Wait for every queued view; re-raise the first error a detection job hit."""
        try:
            for f in self._pending:
                f.result()
        finally:
            self._pool.shutdown(wait=True)


def _flight_record(flight_id: str, sortie: Sortie, flight: FlightLog) -> FlightRecord:
    track = None
    times = None
    if len(flight.track) >= 2:
        track = shapely.LineString([(p.lon, p.lat) for p in flight.track])
        times = [p.t.timestamp() for p in flight.track]
    used = None
    if flight.battery_start is not None and flight.battery_end is not None:
        used = flight.battery_start - flight.battery_end
    started = flight.started_at or sortie.planned_start or datetime.now(UTC)
    ended = flight.ended_at or started
    return FlightRecord(
        flight_id=flight_id,
        started_at=started,
        ended_at=ended,
        outcome=flight.outcome.value,
        nest_id=flight.nest_id,
        sortie_id=sortie.sortie_id,
        battery_used_fraction=used,
        track=track,
        track_times=times,
        extra={"reason": flight.reason, "reached": len(flight.reached)} if flight.reason else {},
    )
