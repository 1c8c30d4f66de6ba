"""Detection throughput: the local engine vs the Ray engine with 1 and 2 workers, same input.

Usage (figures go to stdout as JSON; the rendered scene is cached in --workdir)::

    .venv/bin/python benchmarks/detection_ray.py [--model models/nestpatrol-baseline.onnx] \
        [--frames 40] [--size-px 1024] [--workers 1 2]

Input: ``--frames`` GeoTIFF frames of ``--size-px``² cut at seeded offsets from one synthetic
scene rendered at 3.5 cm/px (``detection/synthetic``), tiled at the model's input size with
20 % overlap. Each engine runs the whole set through the same code path as
``nestpatrol detect``; files/s and tiles/s are wall-clock over the run, Ray's figures include
starting the actors and loading one model per worker (``ray.init`` is timed apart). Every Ray
run is checked to give exactly the local outcomes. The local engine runs ONNX Runtime with all
cores, then with one intra-op thread (what one Ray worker gets). Each Ray worker gets one CPU
and one intra-op thread, at the niceness of ``--worker-niceness`` (Ray's own default, 15, loses
to anything else running on the machine).
"""

# ruff: noqa: PLC0415 - Ray is optional: imported where used

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detection.inference import DetectorConfig, SliceConfig, load_detector  # noqa: E402
from detection.inference.export import to_feature  # noqa: E402
from detection.inference.pipeline import FileOutcome, PipelineConfig, iter_detection  # noqa: E402

GSD_M = 0.035
BLOCK_PX = 1000
SCENE_PX = 2048


def scene(workdir: Path) -> NDArray[np.uint8]:
    """One rendered synthetic scene (cached): frames are windows cut from it."""
    cache = workdir / f"scene_{SCENE_PX}.npy"
    if cache.exists():
        return np.asarray(np.load(cache))
    from detection.synthetic.layout import WorldConfig, generate_world
    from detection.synthetic.render import render
    from detection.synthetic.world import CameraWindow

    side_m = SCENE_PX * GSD_M
    k = (side_m / 60.0) ** 2  # the generator's densities are per 60 m world
    world = generate_world(7, WorldConfig(side_m, 10 * k, 8 * k, 2 * k, 6 * k))
    image = np.zeros((SCENE_PX, SCENE_PX, 3), np.uint8)
    for r in range(0, SCENE_PX, BLOCK_PX):
        for c in range(0, SCENE_PX, BLOCK_PX):
            h, w = min(BLOCK_PX, SCENE_PX - r), min(BLOCK_PX, SCENE_PX - c)
            win = CameraWindow(c * GSD_M, side_m - (r + h) * GSD_M, w, h, GSD_M)
            image[r : r + h, c : c + w] = render(world, win).image
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(cache, image)
    return image


def frames(workdir: Path, n: int, size_px: int) -> Path:
    """``n`` GeoTIFF frames in a folder, each a seeded window of the scene at its own origin."""
    from detection.sources.testing import write_geotiff

    folder = workdir / f"frames_{n}x{size_px}"
    if len(list(folder.glob("*.tif"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    image = scene(workdir)
    rng = np.random.default_rng(0)
    for i in range(n):
        r, c = (int(v) for v in rng.integers(0, SCENE_PX - size_px + 1, 2))
        origin = (750_000.0 + c * GSD_M, 2_540_000.0 - r * GSD_M)
        pixels = image[r : r + size_px, c : c + size_px]
        write_geotiff(folder / f"frame_{i:03d}.tif", pixels, origin_xy=origin, pixel_size=GSD_M)
    return folder


def _records(outcomes: list[FileOutcome]) -> list[Any]:
    return [
        (str(o.path), o.skipped_reason, o.tiles_total, [to_feature(d) for d in o.detections])
        for o in outcomes
    ]


def _timed(run: Callable[[], Iterator[FileOutcome]]) -> tuple[list[FileOutcome], float]:
    start = time.perf_counter()
    outcomes = list(run())
    return outcomes, time.perf_counter() - start


def _figures(name: str, outcomes: list[FileOutcome], wall_s: float) -> dict[str, Any]:
    tiles = sum(o.tiles_total for o in outcomes)
    return {
        "engine": name,
        "wall_s": round(wall_s, 2),
        "files_per_s": round(len(outcomes) / wall_s, 2),
        "tiles_per_s": round(tiles / wall_s, 1),
        "detections": sum(len(o.detections) for o in outcomes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "nestpatrol-baseline.onnx")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size-px", type=int, default=1024)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nestpatrol-bench-ray"))
    parser.add_argument(
        "--worker-niceness",
        type=int,
        default=0,
        help="Ray starts its workers at nice 15 unless told; 0 runs them like the local engine",
    )
    args = parser.parse_args()
    # Ray reads its config from RAY_<name>, names in lower case
    os.environ["RAY_worker_niceness"] = str(args.worker_niceness)  # noqa: SIM112

    import ray

    from detection.inference.ray_engine import ModelLoader, RayConfig, iter_detection_ray

    folder = frames(args.workdir, args.frames, args.size_px)
    detector_config = DetectorConfig()
    config = PipelineConfig(slicing=SliceConfig(overlap_ratio=0.2))
    local, wall_s = _timed(
        lambda: iter_detection([folder], load_detector(args.model, detector_config), config)
    )
    one_thread = DetectorConfig(num_threads=1)
    local_1, wall_1_s = _timed(
        lambda: iter_detection([folder], load_detector(args.model, one_thread), config)
    )
    tiles = sum(o.tiles_total for o in local)
    report: dict[str, Any] = {
        "input": f"{args.frames} GeoTIFF frames of {args.size_px}x{args.size_px} px, synthetic "
        f"scene at {GSD_M * 100:.1f} cm/px, {tiles} tiles of the model's input size, 20% overlap",
        "model": str(
            args.model.relative_to(REPO) if args.model.is_relative_to(REPO) else args.model
        ),
        "cpu_cores": os.cpu_count(),
        "ray_worker_niceness": args.worker_niceness,
        "runs": [
            _figures("local", local, wall_s),
            _figures("local, 1 thread", local_1, wall_1_s),
        ],
    }
    for n in args.workers:
        start = time.perf_counter()
        ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - start
        loader = ModelLoader(args.model.resolve(), detector_config, threads=1)
        outcomes, wall_s = _timed(
            lambda n=n, loader=loader: iter_detection_ray(
                [folder], loader, config=config, ray_config=RayConfig(workers=n)
            )
        )
        ray.shutdown()
        run = _figures(f"ray x{n}", outcomes, wall_s)
        run["ray_init_s"] = round(init_s, 2)
        run["same_as_local"] = _records(outcomes) == _records(local)
        report["runs"].append(run)
    report["gpu"] = (
        "none available to this run: CPU only. On a GPU node one actor per GPU "
        "(num_gpus=1, CUDA execution provider) would carry the inference; not measured"
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
