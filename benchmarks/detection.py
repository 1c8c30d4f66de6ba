"""Detection benchmark: ORT vs ultralytics tiles/s, a 10k×10k GeoTIFF in bounded memory, SAHI.

Usage (figures go to stdout as JSON; the synthetic scene is cached in --workdir)::

    .venv/bin/python benchmarks/detection.py --model models/nestpatrol-baseline.onnx \
        [--int8 models/nestpatrol-baseline.int8.onnx] [--pt models/nestpatrol-baseline.pt] \
        [--size-px 10000] [--sahi] [--rounds 5] [--threads N] [--sahi-tile-px PX]

1. Throughput: the same tiles through ONNX Runtime (the float model and, with --int8, the
   INT8 one, with the share of float boxes the INT8 model reproduces) and (with --pt)
   ultralytics/torch, CPU.
2. Large orthophoto: a --size-px square GeoTIFF (tiled, with a nodata strip) built from a
   rendered synthetic mosaic, run through ``run_detection`` in a child process whose peak RSS
   is reported (so the benchmark's own memory does not count).
3. With --sahi: SAHI's ``get_sliced_prediction`` (ultralytics model type) and ours on the same
   in-memory mosaic, one row per pipeline and model file: SAHI and ours on the float model
   (the strict same-model ratio), then ours and SAHI on the INT8 model. Same tile size,
   overlap, confidence, NMS IoU, thread budget T (--threads, default the usable cores) and
   session options for every row (SAHI's ORT session is rebuilt with ours, so it neither
   spins nor gets more threads: 1 session x T intra-op threads; torch's threads, which
   ultralytics' pre- and post-processing use between ORT runs, stay at ultralytics' own
   min(8, cores - 1), capped at T: SAHI's fastest on 2 cores). With T > 1 ours also runs as
   T one-thread sessions, the tiles of each batch in parallel (``*_sessions`` rows; SAHI has
   no such mode, its slices go through one model in turn). Each row states its sessions x
   threads. The rows run interleaved --rounds times and the ratios are of median wall and
   median CPU times (CPU time is the steadier one on a shared machine; the load average
   before and after is reported, and ``summary`` has one line per row). Each row's CPU time is
   split into the part inside ONNX Runtime's ``Session.run`` (the network: the same for every
   pipeline on one model file) and the rest (tiling, resizing, decoding, merging), with the
   ratio a row would reach if its rest cost nothing: the ceiling of any speed-up on that model
   file. Duplicates: same-class pairs
   with IoS >= 0.5 in the output, of those the pairs no single tile produced
   (``across_tiles``: what a seam merge left behind; the rest are boxes nested in one tile's
   own output), and per labelled object of the mosaic's world whether a box found it
   (IoU >= 0.5) and whether it ended up in several boxes. Then the merge alone
   (``--seam-check-only`` runs just this, no model needed): painted rectangles seen exactly
   by a blob detector, our cross-tile merge vs SAHI's GREEDYNMM/IOS.
"""

# ruff: noqa: PLC0415 - the scene generator, torch and SAHI are optional: imported where used

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detection.inference import (  # noqa: E402
    Detection,
    DetectorConfig,
    SliceConfig,
    detect_sliced,
    load_detector,
    tile_windows,
)
from detection.inference._boxes import box_areas, pairwise_intersections  # noqa: E402
from detection.inference._onnx_backend import usable_cores  # noqa: E402

GSD_M = 0.035
NET_GSD_M = 0.07  # the model saw 4.4-8.75 cm per input pixel in training (model card)


def sahi_tile(cfg: BenchConfig, input_px: tuple[int, int]) -> int:
    """The SAHI part's tile: as given, else input size x NET_GSD_M / GSD_M (512 px for 256).

    Tiles of the input size would show the network 3.5 cm/px, outside its training scale:
    objects larger than a tile, split boxes at every seam, for SAHI and for us alike.
    """
    return cfg.sahi_tile_px or round(max(input_px) * NET_GSD_M / GSD_M)


BLOCK_PX = 1000


@dataclass(frozen=True)
class BenchConfig:
    """Benchmark options (see the module docstring)."""

    model: Path
    pt: Path | None
    workdir: Path
    size_px: int
    mosaic_px: int
    tiles: int
    overlap: float
    conf: float
    threads: int | None
    sahi: bool
    int8: Path | None = None
    rounds: int = 5
    sahi_tile_px: int | None = None  # None: the tile that shows the model its training scale


def _rss_mb() -> float:
    """Peak RSS of this process image in MiB.

    /proc VmHWM, not getrusage: ru_maxrss survives execve, so a child spawned by a big parent
    would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mosaic(cfg: BenchConfig) -> NDArray[np.uint8]:
    """A contiguous rendered synthetic scene (cached), or a seeded texture without it."""
    cache = cfg.workdir / f"mosaic_{cfg.mosaic_px}.npy"
    if cache.exists():
        return np.asarray(np.load(cache))
    try:
        from detection.synthetic.layout import WorldConfig, generate_world
        from detection.synthetic.render import render
        from detection.synthetic.world import CameraWindow
    except ImportError:  # the scene generator is not there: fall back to texture
        rng = np.random.default_rng(0)
        image = rng.integers(0, 256, (cfg.mosaic_px, cfg.mosaic_px, 3), dtype=np.uint8)
    else:
        side_m = cfg.mosaic_px * GSD_M
        world = generate_world(7, _mosaic_world_config(side_m, WorldConfig))
        image = np.zeros((cfg.mosaic_px, cfg.mosaic_px, 3), np.uint8)
        for r in range(0, cfg.mosaic_px, BLOCK_PX):
            for c in range(0, cfg.mosaic_px, BLOCK_PX):
                h, w = min(BLOCK_PX, cfg.mosaic_px - r), min(BLOCK_PX, cfg.mosaic_px - c)
                y0 = side_m - (r + h) * GSD_M  # window min_y; rows grow southwards
                win = CameraWindow(c * GSD_M, y0, w, h, GSD_M)
                image[r : r + h, c : c + w] = render(world, win).image
    cfg.workdir.mkdir(parents=True, exist_ok=True)
    np.save(cache, image)
    return image


def _mosaic_world_config(side_m: float, world_config: Any) -> Any:
    k = (side_m / 60.0) ** 2  # the generator's densities are per 60 m world
    return world_config(side_m, 10 * k, 8 * k, 2 * k, 6 * k)


def mosaic_truth(cfg: BenchConfig) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Class and pixel box of every labelled object of the mosaic's world (footprint bounds)."""
    try:
        from detection.synthetic.layout import WorldConfig, generate_world
    except ImportError:
        return []
    side_m = cfg.mosaic_px * GSD_M
    world = generate_world(7, _mosaic_world_config(side_m, WorldConfig))
    truth: list[tuple[int, tuple[float, float, float, float]]] = []
    for obj in world.labelled():
        x0, y0, x1, y1 = obj.footprint.bounds
        box = (x0 / GSD_M, (side_m - y1) / GSD_M, x1 / GSD_M, (side_m - y0) / GSD_M)
        truth.append((obj.label.index, box))  # type: ignore[union-attr]  # labelled: not None
    return truth


def split_objects(
    dets: list[Detection], truth: list[tuple[int, tuple[float, float, float, float]]]
) -> dict[str, int]:
    """Per labelled object: found (a same-class box at IoU >= 0.5) and split into several boxes.

    "In several boxes": two or more same-class boxes lying mostly (>= 50 % of their area)
    inside the object, which is what a seam that a merge failed to close leaves behind.
    """
    from detection.inference._boxes import pairwise_iou

    found = several = 0
    for cls, box in truth:
        mine = np.array([d.box_xyxy_px for d in dets if d.class_index == cls]).reshape(-1, 4)
        obj = np.array([box])
        found += bool((pairwise_iou(obj, mine) >= 0.5).any())
        inside = pairwise_intersections(obj, mine)[0] / np.maximum(box_areas(mine), 1e-9)
        several += int((inside >= 0.5).sum() >= 2)
    return {"objects": len(truth), "found_iou50": found, "in_several_boxes": several}


def big_geotiff(cfg: BenchConfig, tile: NDArray[np.uint8]) -> Path:
    """A size_px² tiled GeoTIFF repeating the mosaic, last 10 % of columns nodata."""
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window

    path = cfg.workdir / f"ortho_{cfg.size_px}.tif"
    if path.exists():
        return path
    n, m = cfg.size_px, tile.shape[0]
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": n, "height": n, "count": 3, "dtype": "uint8",
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
        "crs": "EPSG:32649", "transform": Affine(GSD_M, 0, 750_000.0, 0, -GSD_M, 2_540_000.0),
    }  # fmt: skip
    nodata_from = int(n * 0.9)
    with rasterio.open(path, "w", **profile) as dst:
        for r in range(0, n, 1024):
            h = min(1024, n - r)
            rows = np.arange(r, r + h) % m
            strip = tile[rows][:, np.arange(n) % m]
            dst.write(strip.transpose(2, 0, 1), window=Window(0, r, n, h))
            mask = np.full((h, n), 255, np.uint8)
            mask[:, nodata_from:] = 0
            dst.write_mask(mask, window=Window(0, r, n, h))
    return path


def tiles_per_s(
    detector: Any, tiles: list[NDArray[np.uint8]], batch: int
) -> tuple[float, list[list[Detection]]]:
    """Best of two passes over the same tiles (the first warms up the runtime)."""
    best = float("inf")
    found: list[list[Detection]] = []
    for _ in range(2):
        found = []
        t0 = time.perf_counter()
        for i in range(0, len(tiles), batch):
            found.extend(detector.detect(tiles[i : i + batch]))
        best = min(best, time.perf_counter() - t0)
    return len(tiles) / best, found


def agreement(a: list[list[Detection]], b: list[list[Detection]]) -> float:
    """Share of boxes in ``a`` with a same-class box in ``b`` at IoU >= 0.9 (same tile)."""
    from detection.inference._boxes import pairwise_iou

    total = matched = 0
    for da, db in zip(a, b, strict=True):
        total += len(da)
        if not da or not db:
            continue
        iou = pairwise_iou(
            np.array([d.box_xyxy_px for d in da]), np.array([d.box_xyxy_px for d in db])
        )
        same = np.array([[x.class_index == y.class_index for y in db] for x in da])
        matched += int(((iou >= 0.9) & same).any(axis=1).sum())
    return matched / total if total else float("nan")


def throughput(cfg: BenchConfig, image: NDArray[np.uint8]) -> dict[str, Any]:
    """ORT (and ultralytics when --pt is given) on the same tiles."""
    dcfg = DetectorConfig(conf_threshold=cfg.conf, num_threads=cfg.threads)
    ort_det = load_detector(cfg.model, dcfg)
    size = max(ort_det.input_size_px)
    wins = tile_windows(image.shape[1], image.shape[0], size, 0.0)[: cfg.tiles]
    tiles = [image[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width] for w in wins]
    out: dict[str, Any] = {"tile_px": size, "tiles": len(tiles)}
    ort_rate, ort_found = tiles_per_s(ort_det, tiles, dcfg.batch_size)
    out["onnxruntime_tiles_per_s"] = round(ort_rate, 2)
    out["onnxruntime_detections"] = sum(map(len, ort_found))
    total = cfg.threads or usable_cores()
    if total > 1:  # the same tiles on `total` one-thread sessions, tiles of a batch in parallel
        par_cfg = DetectorConfig(conf_threshold=cfg.conf, num_threads=total, sessions=total)
        par_det = load_detector(cfg.model, par_cfg)
        par_rate, par_found = tiles_per_s(par_det, tiles, dcfg.batch_size)
        out[f"onnxruntime_{total}_sessions_x_1_thread_tiles_per_s"] = round(par_rate, 2)
        out["onnxruntime_sessions_same_detections"] = par_found == ort_found
    if cfg.int8 is not None:
        int8_det = load_detector(cfg.int8, dcfg)
        int8_rate, int8_found = tiles_per_s(int8_det, tiles, dcfg.batch_size)
        out["int8_model"] = str(cfg.int8)
        out["int8_tiles_per_s"] = round(int8_rate, 2)
        out["int8_over_float_tiles_per_s"] = round(int8_rate / ort_rate, 2)
        out["int8_detections"] = sum(map(len, int8_found))
        out["float_boxes_matched_by_int8_iou90"] = round(agreement(ort_found, int8_found), 3)
    if cfg.pt is not None:
        if cfg.threads:
            import torch

            torch.set_num_threads(cfg.threads)
        pt_rate, pt_found = tiles_per_s(load_detector(cfg.pt, dcfg), tiles, dcfg.batch_size)
        out["ultralytics_tiles_per_s"] = round(pt_rate, 2)
        out["ultralytics_detections"] = sum(map(len, pt_found))
        out["ort_boxes_matching_ultralytics_iou90"] = round(agreement(ort_found, pt_found), 3)
    return out


def duplicate_pairs(dets: list[Detection], threshold: float = 0.5) -> int:
    """Same-class pairs where one box lies mostly inside the other (IoS >= threshold)."""
    count = 0
    for cls in {d.class_index for d in dets}:
        boxes = np.array([d.box_xyxy_px for d in dets if d.class_index == cls])
        inter = pairwise_intersections(boxes, boxes)
        areas = box_areas(boxes)
        smaller = np.minimum(areas[:, None], areas[None, :])
        ios = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
        count += int(np.triu(ios >= threshold, k=1).sum())
    return count


def child_read_only(path: Path, overlap: float) -> None:
    """Runs in a fresh process: every tile window read, no model — the I/O side's memory."""
    from detection.sources import RasterSource

    t0 = time.perf_counter()
    with RasterSource(path) as src:
        w, h = src.size_wh_px
        n = sum(src.read_tile(t) is not None for t in tile_windows(w, h, 640, overlap))
    wall = time.perf_counter() - t0
    print(json.dumps({"tiles_read": n, "wall_s": round(wall, 1), "peak_rss_mb": round(_rss_mb())}))


def child_detect(args: argparse.Namespace) -> None:
    """Runs in a fresh process: the large-raster job, reporting its own peak RSS."""
    from detection.inference.pipeline import PipelineConfig, run_detection

    if args.read_only:
        child_read_only(Path(args.child), args.overlap)
        return

    detector = load_detector(
        args.model, DetectorConfig(conf_threshold=args.conf, num_threads=args.threads)
    )
    rss_loaded = _rss_mb()
    config = PipelineConfig(slicing=SliceConfig(overlap_ratio=args.overlap))
    t0 = time.perf_counter()
    result = run_detection([Path(args.child)], detector, config)
    wall = time.perf_counter() - t0
    done = result.tiles_total - result.tiles_skipped
    print(json.dumps({
        "wall_s": round(wall, 1), "tiles_total": result.tiles_total,
        "tiles_skipped_nodata": result.tiles_skipped, "tiles_per_s": round(done / wall, 2),
        "detections": len(result.detections), "skipped_files": len(result.skipped),
        "peak_rss_after_model_load_mb": round(rss_loaded), "peak_rss_mb": round(_rss_mb()),
    }))  # fmt: skip


def large_raster(cfg: BenchConfig, image: NDArray[np.uint8]) -> dict[str, Any]:
    """The --size-px GeoTIFF through the batch pipeline in a child process."""
    path = big_geotiff(cfg, image)
    cmd = [sys.executable, __file__, "--model", str(cfg.model), "--child", str(path),
           "--overlap", str(cfg.overlap), "--conf", str(cfg.conf)]  # fmt: skip
    if cfg.threads:
        cmd += ["--threads", str(cfg.threads)]
    reads = subprocess.run([*cmd, "--read-only"], capture_output=True, text=True, check=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["read_only_pass"] = json.loads(reads.stdout.strip().splitlines()[-1])
    out["raster"] = f"{cfg.size_px}x{cfg.size_px} px, {path.stat().st_size / 2**20:.0f} MiB"
    out["raster_rgb_in_memory_would_be_mb"] = round(cfg.size_px**2 * 3 / 2**20)
    return out


@dataclass
class _Row:
    """One pipeline on one model file: wall times over the rounds, last output, tiles seen."""

    label: str
    run: Callable[[], tuple[list[Detection], list[list[Detection]]]]
    model: Path
    setup: str  # sessions x threads, as run
    walls_s: list[float] = field(default_factory=list)
    cpus_s: list[float] = field(default_factory=list)
    ort_cpus_s: list[float] = field(default_factory=list)
    found: list[Detection] = field(default_factory=list)
    per_tile: list[list[Detection]] = field(default_factory=list)


class _OrtCpuClock:
    """CPU time spent inside ONNX Runtime's ``Session.run``, every session (SAHI's too).

    A one-thread session computes on the calling thread, so its runs are timed with that
    thread's CPU clock: several of them may run at once (``sessions`` > 1) without counting
    each other. A multi-thread session's work is on ORT's pool threads, so its runs are timed
    with the process clock; the benchmark runs those one at a time.
    """

    def __init__(self) -> None:
        self.total_s = 0.0
        self._saved: Any = None
        self._lock = threading.Lock()
        self._one_thread: dict[int, bool] = {}

    def __enter__(self) -> _OrtCpuClock:
        from onnxruntime.capi import onnxruntime_inference_collection as oic

        self._saved = inner = oic.Session.run

        def run(session: Any, *args: Any, **kwargs: Any) -> Any:
            one = self._one_thread.get(id(session))
            if one is None:
                threads = session.get_session_options().intra_op_num_threads
                one = self._one_thread[id(session)] = threads == 1
            clock = time.thread_time if one else time.process_time
            c0 = clock()
            try:
                return inner(session, *args, **kwargs)
            finally:
                spent = clock() - c0
                with self._lock:
                    self.total_s += spent

        oic.Session.run = run
        return self

    def __exit__(self, *exc: object) -> None:
        from onnxruntime.capi import onnxruntime_inference_collection as oic

        oic.Session.run = self._saved


def _contains(outer: tuple[float, ...], inner: tuple[float, ...], tol_px: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - tol_px
        and inner[1] >= outer[1] - tol_px
        and inner[2] <= outer[2] + tol_px
        and inner[3] <= outer[3] + tol_px
    )


def duplicates_across_tiles(
    dets: list[Detection], per_tile: Sequence[Sequence[Detection]], threshold: float = 0.5
) -> int:
    """Duplicate pairs (IoS >= threshold, same class) that no single tile produced.

    A pair is the detector's own when one tile reported two distinct boxes of that class, one
    inside each box of the pair (merged boxes are unions of tile boxes, for us and for SAHI's
    GREEDYNMM alike); any other pair was left by the merge at a seam.
    """
    count = 0
    for cls in {d.class_index for d in dets}:
        same = [d.box_xyxy_px for d in dets if d.class_index == cls]
        boxes = np.array(same)
        inter = pairwise_intersections(boxes, boxes)
        areas = box_areas(boxes)
        smaller = np.minimum(areas[:, None], areas[None, :])
        ios = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
        for i, j in zip(*np.nonzero(np.triu(ios >= threshold, k=1)), strict=True):
            in_one_tile = False
            for tile in per_tile:
                parts = [d.box_xyxy_px for d in tile if d.class_index == cls]
                inside_a = {k for k, b in enumerate(parts) if _contains(same[i], b)}
                inside_b = {k for k, b in enumerate(parts) if _contains(same[j], b)}
                if any(a != b for a in inside_a for b in inside_b):
                    in_one_tile = True
                    break
            count += not in_one_tile
    return count


class _RecordingDetector:
    """Our detector, keeping each tile's output (shifted by the tile origin read last)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.origins: list[tuple[int, int]] = []
        self.per_tile: list[list[Detection]] = []

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.inner.class_names)

    @property
    def input_size_px(self) -> tuple[int, int]:
        h, w = self.inner.input_size_px
        return int(h), int(w)

    def detect(self, images: Sequence[NDArray[np.uint8]]) -> list[list[Detection]]:
        out: list[list[Detection]] = self.inner.detect(images)
        origins = self.origins[len(self.per_tile) : len(self.per_tile) + len(out)]
        for (x, y), dets in zip(origins, out, strict=True):
            self.per_tile.append([d.shifted(x, y) for d in dets])
        return out


def _ours_row(
    label: str, model: Path, cfg: BenchConfig, image: NDArray[np.uint8], sessions: int = 1
) -> _Row:
    """Ours on ``model`` with ``sessions`` sessions sharing the --threads budget."""
    total = cfg.threads or usable_cores()
    dcfg = DetectorConfig(conf_threshold=cfg.conf, num_threads=total, sessions=sessions)
    detector = _RecordingDetector(load_detector(model, dcfg))
    size = sahi_tile(cfg, detector.input_size_px)
    h, w = image.shape[:2]

    def read(t: Any) -> NDArray[np.uint8]:
        detector.origins.append((t.col_off, t.row_off))
        return image[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width]

    def run() -> tuple[list[Detection], list[list[Detection]]]:
        detector.origins.clear()
        detector.per_tile = []
        found = detect_sliced(detector, (w, h), read, SliceConfig(size, cfg.overlap)).detections
        return found, detector.per_tile

    detector.inner.detect([image[:size, :size]] * sessions)  # warm up every session (FIFO pool)
    threads = [s.get_session_options().intra_op_num_threads for s in detector.inner._sessions]
    batch = SliceConfig(size, cfg.overlap).tiles_per_batch
    setup = f"ours: {sessions} ORT session(s) x {threads[0]} intra-op thread(s), tiles of a "
    setup += f"batch ({batch}) on the sessions in parallel" if sessions > 1 else "batch in turn"
    return _Row(label, run, model, setup)


def _sahi_row(
    label: str, model: Path, cfg: BenchConfig, image: NDArray[np.uint8], ours: Any
) -> _Row:
    """SAHI's ultralytics model on ``model``, its ORT session rebuilt with our options."""
    import importlib

    import onnxruntime as ort

    importlib.import_module("ultralytics")  # sets its logger up on import, so quieten it after
    logging.getLogger("ultralytics").setLevel(logging.WARNING)  # keep stdout to the JSON
    sahi: Any = importlib.import_module("sahi")  # optional; typed loosely (no stubs)
    get_sliced_prediction = importlib.import_module("sahi.predict").get_sliced_prediction
    size = sahi_tile(cfg, ours.input_size_px)
    dmodel = sahi.AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model_path=str(model), confidence_threshold=cfg.conf,
        device="cpu", image_size=max(ours.input_size_px),
    )  # fmt: skip
    dmodel.model.overrides["iou"] = ours.config.iou_threshold  # ultralytics' NMS = ours
    dmodel.perform_inference(image[:size, :size])  # builds the predictor and warms it up
    import torch

    # ultralytics' select_device, run when the predictor is built, sets torch's threads to
    # min(8, cores - 1): 1 on 2 cores. Kept (capped at the row's budget): raised to 2 on 2
    # cores, torch's spinning OpenMP threads took the cores from ORT's and SAHI ran 2-4x slower
    # (A/B under load: 3.8 vs 1.7 s wall per run), so this is SAHI's best setting, not a handicap.
    torch_threads = min(cfg.threads or usable_cores(), torch.get_num_threads())
    torch.set_num_threads(torch_threads)
    backend = dmodel.model.predictor.model.backend
    options = ours._session.get_session_options()  # ours exactly: threads, no spin-wait
    session = ort.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    backend.session = session
    threads = session.get_session_options().intra_op_num_threads
    setup = (
        f"SAHI: 1 ORT session x {threads} intra-op thread(s) (its ultralytics ONNX session "
        f"rebuilt with ours' options), slices one after another; torch "
        f"{torch.get_num_threads()} thread(s)"
    )
    tiles: list[list[Detection]] = []
    convert = dmodel.convert_original_predictions

    def recording_convert(shift_amount: Any = None, full_shape: Any = None) -> None:
        convert(shift_amount=shift_amount, full_shape=full_shape)
        for preds in dmodel.object_prediction_list_per_image:
            tiles.append([_from_sahi(p.get_shifted_object_prediction()) for p in preds])

    dmodel.convert_original_predictions = recording_convert

    def run() -> tuple[list[Detection], list[list[Detection]]]:
        tiles.clear()
        torch.set_num_threads(torch_threads)  # the same budget whatever ran before
        result = get_sliced_prediction(
            image, dmodel, slice_height=size, slice_width=size, overlap_height_ratio=cfg.overlap,
            overlap_width_ratio=cfg.overlap, perform_standard_pred=False, verbose=0,
        )  # fmt: skip
        if dmodel.model.predictor.model.backend.session is not session:
            sys.exit("SAHI's ultralytics predictor made a new ORT session: settings would differ")
        return [_from_sahi(p) for p in result.object_prediction_list], list(tiles)

    return _Row(label, run, model, setup)


def _from_sahi(p: Any) -> Detection:
    x0, y0, x1, y1 = (float(v) for v in p.bbox.to_xyxy())
    return Detection(
        int(p.category.id), str(p.category.name), float(p.score.value), (x0, y0, x1, y1)
    )


def sahi_side_by_side(cfg: BenchConfig, image: NDArray[np.uint8]) -> dict[str, Any]:
    """SAHI and ours on the same image, tile size, overlap and thread budget, model by model.

    Every row gets the same T threads (--threads, default the usable cores): SAHI's one ORT
    session and ours' one session get T intra-op threads (torch, for ultralytics' pre- and
    post-processing, between ORT runs, keeps ultralytics' own count capped at T); the
    ``*_sessions`` rows run ours on T one-thread sessions, the tiles of a batch in parallel
    (SAHI has no such mode: its slices go through one model in turn).
    """
    total = cfg.threads or usable_cores()
    dcfg = DetectorConfig(conf_threshold=cfg.conf, num_threads=total)
    fp32 = load_detector(cfg.model, dcfg)
    rows = [
        _sahi_row("sahi_float_model", cfg.model, cfg, image, fp32),
        _ours_row("ours_float_model", cfg.model, cfg, image),
    ]
    if total > 1:
        rows.append(_ours_row(f"ours_float_model_{total}_sessions", cfg.model, cfg, image, total))
    if cfg.int8 is not None:
        int8 = load_detector(cfg.int8, dcfg)
        if int8.input_size_px != fp32.input_size_px:
            sys.exit(f"{cfg.int8}: input size {int8.input_size_px} differs from {cfg.model}")
        rows += [
            _ours_row("ours_int8_model", cfg.int8, cfg, image),
            _sahi_row("sahi_int8_model", cfg.int8, cfg, image, int8),
        ]
        if total > 1:
            rows.append(_ours_row(f"ours_int8_model_{total}_sessions", cfg.int8, cfg, image, total))
    load_before = os.getloadavg()
    with _OrtCpuClock() as ort_clock:
        for r in range(cfg.rounds):  # interleaved, order rotated: load drifts hit all rows alike
            for row in rows[r % len(rows) :] + rows[: r % len(rows)]:
                t0, c0, o0 = time.perf_counter(), time.process_time(), ort_clock.total_s
                row.found, row.per_tile = row.run()
                row.walls_s.append(time.perf_counter() - t0)
                row.cpus_s.append(time.process_time() - c0)
                row.ort_cpus_s.append(ort_clock.total_s - o0)
    load_after = os.getloadavg()
    truth = mosaic_truth(cfg)
    sahi_by_model = {row.model: row for row in rows if row.label.startswith("sahi_")}
    sahi_median = statistics.median(rows[0].walls_s)
    sahi_cpu = statistics.median(rows[0].cpus_s)
    h, w = image.shape[:2]
    out: dict[str, Any] = {
        "image": f"{w}x{h} px, {GSD_M * 100:g} cm/px",
        "tile_px": sahi_tile(cfg, fp32.input_size_px),
        "model_input_px": max(fp32.input_size_px), "overlap": cfg.overlap,
        "conf": cfg.conf, "nms_iou": dcfg.iou_threshold,
        "threads_per_row": total, "usable_cores": usable_cores(), "rounds": cfg.rounds,
        "load_average_1_5_15_min": {
            "before": [round(v, 2) for v in load_before],
            "after": [round(v, 2) for v in load_after],
            "note": f"{usable_cores()} usable cores; the rows themselves add up to {total} "
            "to the load, the rest is other processes taking CPU during the rounds: wall times "
            "are then noisy, CPU times steadier",
        },
        "ratio": "median SAHI time / median time of the row, wall and CPU, against SAHI on the "
        "float model and against SAHI on the row's own model file (CPU: process time of all "
        "threads, steadier than wall time on a shared machine; parallel sessions do not lower "
        "it, they lower wall time)",
    }  # fmt: skip
    summary: list[str] = []
    for row in rows:
        median = statistics.median(row.walls_s)
        n_tiles = max(1, len(row.per_tile))
        ort_cpu = statistics.median(row.ort_cpus_s)
        rest_cpu = statistics.median(
            [c - o for c, o in zip(row.cpus_s, row.ort_cpus_s, strict=True)]
        )
        same = sahi_by_model.get(row.model, rows[0])
        same_median = statistics.median(same.walls_s)
        duplicates = duplicate_pairs(row.found)
        across = duplicates_across_tiles(row.found, row.per_tile)
        out[row.label] = {
            "model": str(row.model), "setup": row.setup, "tiles": len(row.per_tile),
            "wall_s_median": round(median, 2), "wall_s_all": [round(t, 2) for t in row.walls_s],
            "wall_ms_per_tile": round(median / n_tiles * 1e3, 1),
            "tiles_per_s": round(len(row.per_tile) / median, 1),
            "speed_vs_sahi_float_model": round(sahi_median / median, 2),
            f"speed_vs_{same.label}": round(same_median / median, 2),
            "cpu_s_median": round(statistics.median(row.cpus_s), 2),
            "cpu_speed_vs_sahi_float_model": round(sahi_cpu / statistics.median(row.cpus_s), 2),
            "cpu_ms_per_tile_in_onnxruntime": round(ort_cpu / n_tiles * 1e3, 2),
            "cpu_ms_per_tile_rest": round(rest_cpu / n_tiles * 1e3, 2),
            "cpu_speed_vs_sahi_float_model_if_rest_were_free": round(sahi_cpu / ort_cpu, 2),
            "detections": len(row.found), "duplicate_pairs": duplicates,
            "duplicate_pairs_across_tiles": across,
            "labelled_objects": split_objects(row.found, truth),
        }  # fmt: skip
        summary.append(
            f"{row.label}: {median / n_tiles * 1e3:.1f} ms/tile wall, "
            f"{len(row.per_tile) / median:.1f} tiles/s, {sahi_median / median:.2f}x SAHI-float "
            f"wall ({same_median / median:.2f}x {same.label}), CPU ms/tile ORT "
            f"{ort_cpu / n_tiles * 1e3:.1f} + rest {rest_cpu / n_tiles * 1e3:.1f}, "
            f"{len(row.found)} boxes, {duplicates} duplicate pairs ({across} across tiles) "
            f"| {row.setup}"
        )
    out["summary"] = summary
    return out


def _sahi_blob_model(detector: Any) -> Any:
    """SAHI ``DetectionModel`` wrapping our blob detector, so both merges see equal tiles."""
    import importlib

    base: Any = importlib.import_module("sahi.models.base")
    prediction: Any = importlib.import_module("sahi.prediction")

    class BlobModel(base.DetectionModel):  # type: ignore[misc]
        def set_model(self, model: Any, **kwargs: Any) -> None:
            self.model = model
            self.category_mapping = {str(i): n for i, n in enumerate(model.class_names)}

        def perform_inference(self, image: NDArray[np.uint8]) -> None:
            self._original_predictions = self.model.detect([image])[0]

        def _create_object_prediction_list_from_original_predictions(
            self, shift_amount_list: Any = None, full_shape_list: Any = None
        ) -> None:
            shift = (shift_amount_list or [[0, 0]])[0]
            full = full_shape_list[0] if full_shape_list else None
            self._object_prediction_list_per_image = [[
                prediction.ObjectPrediction(
                    bbox=list(d.box_xyxy_px), category_id=d.class_index,
                    category_name=d.class_name, score=d.score, shift_amount=shift, full_shape=full,
                )
                for d in self._original_predictions
            ]]  # fmt: skip

        @property
        def num_categories(self) -> int:
            return len(self.model.class_names)

        @property
        def has_mask(self) -> bool:
            return False

    return BlobModel(model=detector, device="cpu", confidence_threshold=0.25)


def seam_check(cfg: BenchConfig) -> dict[str, Any]:
    """Merge quality alone: painted rectangles, an exact detector, our merge vs SAHI's."""
    import importlib

    from detection.inference.testing import ColourBlobDetector

    get_sliced_prediction = importlib.import_module("sahi.predict").get_sliced_prediction
    rng = np.random.default_rng(5)
    side, tile = 3000, 640
    image = np.full((side, side, 3), 90, np.uint8)
    truth: list[tuple[int, int, int, int]] = []
    for _ in range(400):
        w, h = (int(v) for v in rng.uniform(20, 700, 2))
        x, y = int(rng.integers(0, side - w)), int(rng.integers(0, side - h))
        if (image[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2] != 90).any():
            continue
        image[y : y + h, x : x + w] = (255, 0, 0)
        truth.append((x, y, x + w, y + h))
    blob = ColourBlobDetector([(255, 0, 0)], ["illegal_structure"])

    def read(t: Any) -> NDArray[np.uint8]:
        return image[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width]

    ours = detect_sliced(blob, (side, side), read, SliceConfig(tile, cfg.overlap)).detections
    result = get_sliced_prediction(
        image, _sahi_blob_model(blob), slice_height=tile, slice_width=tile,
        overlap_height_ratio=cfg.overlap, overlap_width_ratio=cfg.overlap,
        perform_standard_pred=False, verbose=0,
    )  # fmt: skip
    theirs = [tuple(p.bbox.to_xyxy()) for p in result.object_prediction_list]
    return {
        "objects": len(truth), "tile_px": tile, "overlap": cfg.overlap,
        "ours": _vs_truth([d.box_xyxy_px for d in ours], truth),
        "sahi_greedynmm_ios05": _vs_truth(theirs, truth),
    }  # fmt: skip


def _vs_truth(boxes: list[Any], truth: list[tuple[int, int, int, int]]) -> dict[str, int]:
    """Objects found once exactly (IoU >= 0.99) and objects split into several boxes."""
    from detection.inference._boxes import pairwise_intersections, pairwise_iou

    b, t = np.array(boxes, dtype=float).reshape(-1, 4), np.array(truth, dtype=float)
    iou = pairwise_iou(t, b)
    parts = (pairwise_intersections(t, b) / np.maximum(box_areas(b), 1e-9)[None, :]) >= 0.5
    return {
        "boxes_out": len(b),
        "objects_exact_once": int(((iou >= 0.99).sum(axis=1) == 1).sum()),
        "objects_in_several_boxes": int((parts.sum(axis=1) >= 2).sum()),
    }


def main() -> None:
    """Parse options, run the three parts, print one JSON object."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", type=Path, default=REPO / "models" / "nestpatrol-baseline.onnx")
    p.add_argument("--pt", type=Path, default=None)
    int8 = REPO / "models" / "nestpatrol-baseline.int8.onnx"
    p.add_argument(
        "--int8", type=Path, default=int8 if int8.is_file() else None,
        help="INT8 model to compare with --model (default: the bundled one)",
    )  # fmt: skip
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the SAHI rows")
    p.add_argument("--sahi-tile-px", type=int, default=None, help="SAHI part [2 x input]")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/nestpatrol-bench"))
    p.add_argument("--size-px", type=int, default=10_000)
    p.add_argument("--mosaic-px", type=int, default=3000)
    p.add_argument("--tiles", type=int, default=32)
    p.add_argument("--overlap", type=float, default=0.2)
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument(
        "--threads", type=int, default=None, help="ORT threads per row (default: all cores)"
    )
    p.add_argument("--sahi", action="store_true")
    p.add_argument("--skip-large", action="store_true")
    p.add_argument("--seam-check-only", action="store_true", help="merge quality vs SAHI, no model")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child_detect(args)
        return
    if args.seam_check_only:
        cfg = BenchConfig(args.model, None, args.workdir, 0, 0, 0, args.overlap, 0.0, None, True)
        print(json.dumps({"seam_merge_exact_detector": seam_check(cfg)}, indent=2))
        return
    if not args.model.is_file():
        sys.exit(f"{args.model}: no model; train one (nestpatrol model train) or pass --model")
    cfg = BenchConfig(args.model, args.pt, args.workdir, args.size_px, args.mosaic_px,
                      args.tiles, args.overlap, args.conf, args.threads, args.sahi,
                      args.int8, args.rounds, args.sahi_tile_px)  # fmt: skip
    image = mosaic(cfg)
    report: dict[str, Any] = {"model": str(cfg.model), "threads": cfg.threads or "all"}
    report["throughput"] = throughput(cfg, image)
    if not args.skip_large:
        report["large_raster"] = large_raster(cfg, image)
    if cfg.sahi:
        report["sahi"] = sahi_side_by_side(cfg, image)
        report["seam_merge_exact_detector"] = seam_check(cfg)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
