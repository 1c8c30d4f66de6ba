"""Detector false alarms on violation-free ground, and held-out mAP, for one or more models.

Usage (figures go to stdout as JSON, a short table to stderr)::

    .venv/bin/python benchmarks/detector_fp.py models/nestpatrol-baseline.onnx /tmp/new.onnx \
        [--test-images nestpatrol-data/synth/images/test] [--blocks 4] [--first-seed 3000000]

False positives: the patrol simulator's setting. ``--blocks`` violation-free worlds
(:func:`detection.synthetic.layout.generate_background`, seeds ``--first-seed`` and up, with the
simulator's block densities: 100 m square, 5 confusers, 2 buildings and 6 trees per 60 m × 60 m)
are rendered whole at 0.07 m/px, day and night, like ``patrol.sim.render``, and cut into
non-overlapping 256 px tiles that are fed 1:1 to each model. Nothing in them is a violation, so
every detection is a false alarm; they are counted per tile and per 100 m² at each
``--conf``, by predicted class and by what they overlap (a confuser kind at IoU ≥ 0.3, or
background).

With ``--test-images``, each model is also scored on that labelled split with
:func:`detection.training.evaluate.evaluate` (per-class AP50 and AP50-95).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detection.classes import CLASS_NAMES  # noqa: E402
from detection.synthetic.layout import WorldConfig, generate_background  # noqa: E402
from detection.synthetic.render import RenderOptions, render  # noqa: E402
from detection.synthetic.world import CameraWindow  # noqa: E402
from detection.training.evaluate import evaluate  # noqa: E402
from detection.training.metrics import BACKGROUND, iou_matrix  # noqa: E402
from detection.training.onnx_predict import OnnxPredictor  # noqa: E402

GSD_M = 0.07  # patrol.sim.world.SimFidelity.render_gsd_m
BLOCK_M = 100.0
TILE_PX = 256


def block_config(size_m: float = BLOCK_M) -> WorldConfig:
    """The simulator's background densities (``patrol.sim.world._background_config``)."""
    k = (size_m / 60.0) ** 2
    return WorldConfig(
        size_m=size_m, violations=0.0, confusers=5.0 * k, buildings=2.0 * k, trees=6.0 * k
    )


Tile = tuple[NDArray[np.uint8], list[tuple[str, NDArray[np.float32]]]]


def background_tiles(first_seed: int, blocks: int, night: bool) -> list[Tile]:
    """256 px tiles of rendered violation-free blocks, with the confuser boxes in each tile."""
    size_px = round(BLOCK_M / GSD_M)
    tiles: list[Tile] = []
    for seed in range(first_seed, first_seed + blocks):
        world = generate_background(seed, block_config()).world
        window = CameraWindow(0.0, 0.0, size_px, size_px, GSD_M)
        scene = render(world, window, RenderOptions(night=night, seed=seed ^ int(night)))
        boxes = [
            (b.kind.value, np.asarray([b.x0_px, b.y0_px, b.x1_px, b.y1_px], np.float32))
            for b in scene.confusers
        ]
        for top in range(0, size_px - TILE_PX + 1, TILE_PX):
            for left in range(0, size_px - TILE_PX + 1, TILE_PX):
                crop = np.ascontiguousarray(scene.image[top : top + TILE_PX, left : left + TILE_PX])
                shift = np.asarray([left, top, left, top], np.float32)
                local = [(k, b - shift) for k, b in boxes]
                tiles.append((crop, local))
    return tiles


def false_alarms(model: Path, tiles: list[Tile], confs: list[float]) -> dict[str, Any]:
    """Detections per tile and per 100 m² at each confidence, by class and by what they hit."""
    predictor = OnnxPredictor(model)
    tile_m2 = (TILE_PX * GSD_M) ** 2
    out: dict[str, Any] = {}
    floor = min(confs)
    dets = [(predictor.predict(image, conf_threshold=floor), hit) for image, hit in tiles]
    for threshold in confs:
        by_class: Counter[str] = Counter()
        by_source: Counter[str] = Counter()
        total = 0
        for det, confusers in dets:
            keep = det.scores >= threshold
            boxes, classes = det.boxes_xyxy[keep], det.classes[keep]
            total += int(keep.sum())
            for box, cls in zip(boxes, classes, strict=True):
                by_class[CLASS_NAMES[int(cls)]] += 1
                source, best = BACKGROUND, 0.3
                for kind, target in confusers:
                    iou = float(iou_matrix(box[None], target[None])[0, 0])
                    if iou >= best:
                        source, best = kind, iou
                by_source[source] += 1
        out[f"{threshold:g}"] = {
            "detections": total,
            "per_tile": round(total / len(tiles), 4),
            "per_100m2": round(total / (len(tiles) * tile_m2) * 100, 4),
            "by_class": dict(sorted(by_class.items())),
            "by_overlap": dict(sorted(by_source.items())),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="exported .onnx models")
    parser.add_argument("--blocks", type=int, default=4, help="background blocks (25 tiles each)")
    parser.add_argument("--first-seed", type=int, default=3_000_000)
    parser.add_argument("--conf", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--test-images", type=Path, help="images/ folder of a labelled split")
    args = parser.parse_args()
    tiles = {
        "day": background_tiles(args.first_seed, args.blocks, night=False),
        "night": background_tiles(args.first_seed, args.blocks, night=True),
    }
    report: dict[str, Any] = {
        "setting": {
            "blocks": args.blocks,
            "seeds": [args.first_seed, args.first_seed + args.blocks - 1],
            "gsd_m": GSD_M,
            "tile_px": TILE_PX,
            "tiles_per_lighting": len(tiles["day"]),
            "tile_m2": round((TILE_PX * GSD_M) ** 2, 2),
        },
        "models": {},
    }
    for model in args.models:
        entry: dict[str, Any] = {
            "false_alarms": {name: false_alarms(model, t, args.conf) for name, t in tiles.items()}
        }
        if args.test_images is not None:
            entry["test"] = evaluate(model, args.test_images).to_json()
        report["models"][str(model)] = entry
        print(_summary(model, entry, args.conf), file=sys.stderr)
    print(json.dumps(report, indent=2))


def _summary(model: Path, entry: dict[str, Any], confs: list[float]) -> str:
    lines = [f"== {model}"]
    for light, by_conf in entry["false_alarms"].items():
        cells = ", ".join(
            f"conf {c:g}: {by_conf[f'{c:g}']['per_tile']:.3f}/tile "
            f"{by_conf[f'{c:g}']['per_100m2']:.3f}/100 m²"
            for c in confs
        )
        lines.append(f"  background {light}: {cells}")
    if "test" in entry:
        test = entry["test"]
        for c in test["classes"]:
            lines.append(f"  {c['name']:<24} AP50 {c['ap50']:.3f}  AP50-95 {c['ap50_95']:.3f}")
        lines.append(f"  {'all':<24} mAP50 {test['map50']:.3f}  mAP50-95 {test['map50_95']:.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
