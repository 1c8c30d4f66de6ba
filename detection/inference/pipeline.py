"""Batch detection over many files: open → slice → detect → merge → georeference.

One bad file never stops a batch: its :class:`~detection.errors.ImageInputError` becomes a
:class:`SkippedFile` with the reason, and the run goes on. Model errors do stop the batch —
every later file would fail the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shapely import Polygon

from detection.errors import ImageInputError
from detection.georef import GroundModel
from detection.inference._types import Detection, Detector
from detection.inference.light import relative_light
from detection.inference.slicing import SliceConfig, detect_sliced, tile_windows
from detection.sources import ImageSource, SourceConfig, iter_sources
from detection.sources.photo import ground_for

SIDECARS = frozenset({".json", ".srt", ".SRT", ".csv", ".jsonl"})


@dataclass(frozen=True)
class GeoDetection:
    """A detection placed on the ground; ``polygon`` is None when it could not be placed.

    ``frame_time_s`` is the time in the video for detections in video frames; ``light`` the
    object's brightness against its surroundings (:func:`~detection.inference.light.relative_light`:
    work lights at night), ``None`` where it could not be read.
    """

    detection: Detection
    polygon: Polygon | None
    source: Path
    frame_time_s: float | None = None
    light: float | None = None


@dataclass(frozen=True)
class SkippedFile:
    """A file the batch could not use, and why (the error message, with its fix)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a batch run needs besides the detector and the files."""

    slicing: SliceConfig = field(default_factory=SliceConfig)
    sources: SourceConfig = field(default_factory=SourceConfig)


@dataclass
class BatchResult:
    """What a batch produced: detections, skipped files and tile accounting."""

    detections: list[GeoDetection] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_done: int = 0
    tiles_total: int = 0
    tiles_skipped: int = 0

    @property
    def unplaced(self) -> int:
        """Detections that could not be georeferenced (e.g. above the horizon)."""
        return sum(1 for d in self.detections if d.polygon is None)


@dataclass(frozen=True)
class ProgressHooks:
    """Callbacks for a progress display; all optional."""

    file_started: Callable[[Path, int], None] | None = None  # path, tiles in the file
    tiles_done: Callable[[int], None] | None = None
    file_finished: Callable[[Path, str | None], None] | None = None  # path, skip reason


def _detect_image(
    source: ImageSource, detector: Detector, config: PipelineConfig, hooks: ProgressHooks
) -> tuple[list[GeoDetection], int, int]:
    w, h = source.size_wh_px
    tile_px = config.slicing.tile_size_px or max(detector.input_size_px)
    if hooks.file_started is not None:
        n_tiles = len(tile_windows(w, h, tile_px, config.slicing.overlap_ratio))
        hooks.file_started(source.path, n_tiles)
    result = detect_sliced(detector, (w, h), source.read_tile, config.slicing, hooks.tiles_done)
    polygons = source.georeferencer.boxes_to_polygons([d.box_xyxy_px for d in result.detections])
    placed = [
        GeoDetection(
            d,
            p,
            source.path,
            source.frame_time_s,
            relative_light(source.read_tile, (w, h), d.box_xyxy_px),
        )
        for d, p in zip(result.detections, polygons, strict=True)
    ]
    return placed, result.tiles_total, result.tiles_skipped


def _detect_file(
    path: Path,
    detector: Detector,
    config: PipelineConfig,
    ground: GroundModel | None,
    hooks: ProgressHooks,
) -> tuple[list[GeoDetection], int, int]:
    found: list[GeoDetection] = []
    tiles = empty = 0
    for source in iter_sources(path, config.sources, ground):
        try:
            placed, n, skipped = _detect_image(source, detector, config, hooks)
        finally:
            source.close()
        found.extend(placed)
        tiles, empty = tiles + n, empty + skipped
    return found, tiles, empty


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the files directly inside any directory given, in sorted order.

    A file named twice (directly and through its folder) is processed once.
    """
    seen: set[Path] = set()
    for p in paths:
        files = (
            sorted(q for q in p.iterdir() if q.is_file() and q.suffix not in SIDECARS)
            if p.is_dir()
            else [p]
        )
        for q in files:
            key = q.resolve()
            if key not in seen:
                seen.add(key)
                yield q


@dataclass(frozen=True)
class FileOutcome:
    """The result for one file: detections, or the reason it was skipped."""

    path: Path
    detections: list[GeoDetection]
    skipped_reason: str | None = None
    tiles_total: int = 0
    tiles_skipped: int = 0


def iter_detection(
    paths: Iterable[Path],
    detector: Detector,
    config: PipelineConfig | None = None,
    hooks: ProgressHooks | None = None,
    already_done: Container[str] = (),
) -> Iterator[FileOutcome]:
    """One outcome per file, as soon as it is done, so callers can checkpoint and resume.

    Files whose ``str(path)`` is in ``already_done`` are passed over silently.
    """
    config = config or PipelineConfig()
    hooks = hooks or ProgressHooks()
    ground: GroundModel | None = None
    if config.sources.dem_path is not None:
        ground = ground_for(config.sources)  # opened once, shared by all photos
    for path in expand_paths(paths):
        if str(path) in already_done:
            continue
        try:
            found, tiles, skipped_tiles = _detect_file(path, detector, config, ground, hooks)
        except ImageInputError as e:
            outcome = FileOutcome(path, [], skipped_reason=str(e))
        else:
            outcome = FileOutcome(path, found, None, tiles, skipped_tiles)
        if hooks.file_finished is not None:
            hooks.file_finished(path, outcome.skipped_reason)
        yield outcome


def run_detection(
    paths: Iterable[Path],
    detector: Detector,
    config: PipelineConfig | None = None,
    hooks: ProgressHooks | None = None,
) -> BatchResult:
    """Detect in every file; bad files are listed in ``skipped`` with the reason."""
    out = BatchResult()
    for outcome in iter_detection(paths, detector, config, hooks):
        add_outcome(out, outcome)
    return out


def add_outcome(result: BatchResult, outcome: FileOutcome) -> None:
    """Fold one file's outcome into a batch result."""
    if outcome.skipped_reason is not None:
        result.skipped.append(SkippedFile(outcome.path, outcome.skipped_reason))
        return
    result.detections.extend(outcome.detections)
    result.files_done += 1
    result.tiles_total += outcome.tiles_total
    result.tiles_skipped += outcome.tiles_skipped
