"""Detection benchmark: ORT vs ultralytics tiles/s, a 10k×10k GeoTIFF in bounded memory, SAHI.

Usage (figures go to stdout as JSON; the synthetic scene is cached in --workdir)::

    .venv/bin/python benchmarks/detection.py --model models/nestpatrol-baseline.onnx \
        [--pt models/nestpatrol-baseline.pt] [--size-px 10000] [--sahi]

1. Throughput: the same tiles through ONNX Runtime and (with --pt) ultralytics/torch, CPU.
2. Large orthophoto: a --size-px square GeoTIFF (tiled, with a nodata strip) built from a
   rendered synthetic mosaic, run through ``run_detection`` in a child process whose peak RSS
   is reported (so the benchmark's own memory does not count).
3. With --sahi: SAHI's ``get_sliced_prediction`` (ultralytics model type on the same ONNX
   file) and ours on the same in-memory mosaic, same tile size and overlap: wall time,
   throughput ratio and same-class duplicate pairs (IoS >= 0.5), which seams would cause;
   then the merge alone (``--seam-check-only`` runs just this, no model needed): painted
   rectangles seen exactly by a blob detector, our cross-tile merge vs SAHI's GREEDYNMM/IOS.
"""

# ruff: noqa: PLC0415 - the scene generator, torch and SAHI are optional: imported where used

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
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

GSD_M = 0.035
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
        k = (side_m / 60.0) ** 2  # the generator's densities are per 60 m world
        world = generate_world(7, WorldConfig(side_m, 10 * k, 8 * k, 2 * k, 6 * k))
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


def sahi_side_by_side(cfg: BenchConfig, image: NDArray[np.uint8]) -> dict[str, Any]:
    """Same ONNX model, image, tile size and overlap through SAHI and through ours."""
    import importlib

    sahi: Any = importlib.import_module("sahi")  # optional; typed loosely (no stubs)
    get_sliced_prediction = importlib.import_module("sahi.predict").get_sliced_prediction

    ours = load_detector(
        cfg.model, DetectorConfig(conf_threshold=cfg.conf, num_threads=cfg.threads)
    )
    size = max(ours.input_size_px)
    h, w = image.shape[:2]

    def read(t: Any) -> NDArray[np.uint8]:
        return image[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width]

    t0 = time.perf_counter()
    mine = detect_sliced(ours, (w, h), read, SliceConfig(size, cfg.overlap)).detections
    ours_s = time.perf_counter() - t0
    model = sahi.AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model_path=str(cfg.model), confidence_threshold=cfg.conf,
        device="cpu", image_size=size,
    )  # fmt: skip
    t0 = time.perf_counter()
    result = get_sliced_prediction(
        image, model, slice_height=size, slice_width=size, overlap_height_ratio=cfg.overlap,
        overlap_width_ratio=cfg.overlap, perform_standard_pred=False, verbose=0,
    )  # fmt: skip
    sahi_s = time.perf_counter() - t0
    theirs = [
        Detection(
            p.category.id, str(p.category.name), float(p.score.value), tuple(p.bbox.to_xyxy())
        )
        for p in result.object_prediction_list
    ]
    return {
        "image": f"{w}x{h} px", "tile_px": size, "overlap": cfg.overlap,
        "ours_s": round(ours_s, 2), "sahi_s": round(sahi_s, 2),
        "throughput_ratio_ours_over_sahi": round(sahi_s / ours_s, 2),
        "ours_detections": len(mine), "sahi_detections": len(theirs),
        "ours_duplicate_pairs": duplicate_pairs(mine),
        "sahi_duplicate_pairs": duplicate_pairs(theirs),
    }  # fmt: skip


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
    p.add_argument("--workdir", type=Path, default=Path("/tmp/nestpatrol-bench"))
    p.add_argument("--size-px", type=int, default=10_000)
    p.add_argument("--mosaic-px", type=int, default=3000)
    p.add_argument("--tiles", type=int, default=32)
    p.add_argument("--overlap", type=float, default=0.2)
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument("--threads", type=int, default=None)
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
                      args.tiles, args.overlap, args.conf, args.threads, args.sahi)  # fmt: skip
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
