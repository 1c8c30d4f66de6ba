"""Export synthetic scenes as a YOLO-format dataset split by seed.

Layout (what ultralytics expects)::

    out/data.yaml
    out/images/{train,val,test}/<seed>.jpg
    out/labels/{train,val,test}/<seed>.txt
    out/scenes.jsonl          one line per image: seed, split, window, night, confuser boxes

One world per seed and one camera frame per world: the seed ranges of the splits are disjoint,
so no world seen in training ever reappears in validation or test.

``DatasetConfig.background_fraction`` turns that share of the seeds of the splits in
``background_splits`` into background-only frames: the violation-free world of
:func:`~detection.synthetic.layout.generate_background` (ground, buildings, solar roofs, trees
and confusers such as pools, tarps, courts, cars and containers) with an empty label file, which
ultralytics trains on as a background image. Whether a seed is a background frame is drawn from
its own random stream, so the default of 0.0 reproduces datasets made before the option existed
pixel for pixel.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
from PIL import Image

from detection.classes import CLASS_NAMES
from detection.errors import DatasetError
from detection.synthetic.layout import WorldConfig, generate_background, generate_world
from detection.synthetic.lighting import NightOptions
from detection.synthetic.render import RenderedScene, RenderOptions, render
from detection.synthetic.world import CONFUSER_KINDS, CameraWindow, ObjectKind, World


class Split(Enum):
    """Dataset split; the value is the folder name under ``images/`` and ``labels/``."""

    TRAIN = "train"
    VAL = "val"
    TEST = "test"


@dataclass(frozen=True)
class SeedRange:
    """Seeds ``first_seed`` .. ``first_seed + count - 1`` of one split."""

    first_seed: int
    count: int

    def seeds(self) -> range:
        """The seeds of this range."""
        return range(self.first_seed, self.first_seed + self.count)


# the seeds of the committed baseline model (see models/nestpatrol-baseline.md)
DEFAULT_SPLITS: dict[Split, SeedRange] = {
    Split.TRAIN: SeedRange(0, 962),
    Split.VAL: SeedRange(1_000_000, 100),
    Split.TEST: SeedRange(2_000_000, 300),
}
# denser than the default world so that a 320 px training frame holds several objects
DATASET_WORLD = WorldConfig(size_m=40.0, violations=9.0, confusers=7.0, buildings=1.5, trees=4.0)
# what a background frame is centred on: the legal look-alikes that draw false alarms
HARD_NEGATIVE_KINDS: frozenset[ObjectKind] = CONFUSER_KINDS | {
    ObjectKind.ROOF_SOLAR,
    ObjectKind.ROOF_CONCRETE,
    ObjectKind.ROOF_DARK,
    ObjectKind.ROOF_RED_TILE,
}


@dataclass(frozen=True)
class DatasetConfig:
    """What to generate: splits, frame size, GSD range, share of night and background frames.

    Frames are drawn at a GSD sampled in ``gsd_range_m`` so a model trained at ``image_px``
    also sees objects at the scale it meets when an inference tiler shrinks larger tiles.

    ``object_centred_fraction`` of the frames are centred near an object: a violation in a
    normal frame, a confuser or legal roof in a background frame (hard negatives); the rest
    look anywhere in the world. ``background_fraction`` of the seeds of ``background_splits``
    render a violation-free world with an empty label file. Its default 0.0 keeps datasets made
    before it existed reproducible; the test split is left out of ``background_splits`` by
    default so test metrics stay comparable with the committed baseline's.
    """

    image_px: int = 320
    gsd_range_m: tuple[float, float] = (0.035, 0.07)
    night_fraction: float = 0.2
    object_centred_fraction: float = 0.85
    jpeg_quality: int = 90
    background_fraction: float = 0.0
    background_splits: frozenset[Split] = frozenset({Split.TRAIN, Split.VAL})
    splits: dict[Split, SeedRange] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    world: WorldConfig = DATASET_WORLD

    def __post_init__(self) -> None:
        lo, hi = self.gsd_range_m
        if not 0 < lo <= hi:
            raise DatasetError(f"gsd_range_m={self.gsd_range_m} must be 0 < low <= high metres")
        if not 32 <= self.image_px <= 4096:
            raise DatasetError(f"image_px={self.image_px} must be within 32..4096")
        for name in ("night_fraction", "object_centred_fraction", "background_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise DatasetError(f"{name}={value} must be within 0..1")
        ranges = sorted(self.splits.values(), key=lambda r: r.first_seed)
        for a, b in itertools.pairwise(ranges):
            if a.first_seed + a.count > b.first_seed:
                raise DatasetError(
                    f"seed ranges {a} and {b} overlap; give each split a disjoint range "
                    "so held-out worlds are never trained on"
                )


@dataclass(frozen=True)
class Frame:
    """One generated frame: its seed, split, night and background flags, and the scene."""

    seed: int
    split: Split
    night: bool
    scene: RenderedScene
    background: bool = False


def _window(
    world: World, rng: np.random.Generator, cfg: DatasetConfig, *, background: bool = False
) -> CameraWindow:
    """A frame centred near a violation (or, for a background frame, near a confuser or legal
    roof) most of the time, anywhere in the world otherwise."""
    gsd_m = float(rng.uniform(*cfg.gsd_range_m))
    if background:
        targets = [o for o in world.objects if o.kind in HARD_NEGATIVE_KINDS]
    else:
        targets = world.labelled()
    size_m = world.extent[2]
    if targets and rng.random() < cfg.object_centred_fraction:
        target = targets[int(rng.integers(len(targets)))]
        jitter_m = cfg.image_px * gsd_m * 0.3
        cx = target.center_xy_m[0] + float(rng.uniform(-jitter_m, jitter_m))
        cy = target.center_xy_m[1] + float(rng.uniform(-jitter_m, jitter_m))
    else:
        cx, cy = (float(v) for v in rng.uniform(0, size_m, 2))
    return CameraWindow.centered(cx, cy, cfg.image_px, gsd_m)


def _options(rng: np.random.Generator, night: bool, seed: int) -> RenderOptions:
    """Camera variation: exposure, white balance, haze; night frames gain up and get noisier."""
    wb = tuple(float(v) for v in 1 + rng.uniform(-0.06, 0.06, 3))
    if night:
        night_opts = NightOptions(ambient=float(rng.uniform(0.06, 0.14)))
        return RenderOptions(
            night=True,
            exposure=float(rng.uniform(1.0, 1.6)),
            white_balance=wb,  # type: ignore[arg-type]
            noise_sigma=float(rng.uniform(0.02, 0.045)),
            seed=seed,
            night_options=night_opts,
        )
    return RenderOptions(
        exposure=float(rng.uniform(0.85, 1.2)),
        white_balance=wb,  # type: ignore[arg-type]
        haze=float(rng.uniform(0.0, 0.12)),
        noise_sigma=float(rng.uniform(0.003, 0.012)),
        seed=seed,
    )


def is_background(seed: int, split: Split, cfg: DatasetConfig) -> bool:
    """Whether ``seed`` is a background-only frame: its own random stream, so the frames of
    the other seeds do not change with ``background_fraction``."""
    if split not in cfg.background_splits or cfg.background_fraction <= 0.0:
        return False
    return bool(np.random.default_rng([seed, 13]).random() < cfg.background_fraction)


def make_frame(seed: int, split: Split, cfg: DatasetConfig) -> Frame:
    """Generate the world of ``seed`` and render its one dataset frame (deterministic)."""
    background = is_background(seed, split, cfg)
    world = (
        generate_background(seed, cfg.world).world
        if background
        else generate_world(seed, cfg.world)
    )
    rng = np.random.default_rng([seed, 7])
    window = _window(world, rng, cfg, background=background)
    night = bool(rng.random() < cfg.night_fraction)
    scene = render(world, window, _options(rng, night, seed))
    return Frame(seed, split, night, scene, background)


def iter_frames(cfg: DatasetConfig) -> Iterator[Frame]:
    """All frames of all splits, in split then seed order."""
    for split, seeds in cfg.splits.items():
        for seed in seeds.seeds():
            yield make_frame(seed, split, cfg)


def write_data_yaml(root: Path, splits: list[Split]) -> Path:
    """Write the ultralytics ``data.yaml`` (JSON is valid YAML, so no YAML writer is needed)."""
    data: dict[str, object] = {"path": str(root.resolve())}
    for split in splits:
        data[split.value] = f"images/{split.value}"
    data["names"] = dict(enumerate(CLASS_NAMES))
    path = root / "data.yaml"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def _manifest_line(frame: Frame) -> str:
    w = frame.scene.window
    labels = [[b.kind.value, b.x0_px, b.y0_px, b.x1_px, b.y1_px] for b in frame.scene.labels]
    confusers = [[b.kind.value, b.x0_px, b.y0_px, b.x1_px, b.y1_px] for b in frame.scene.confusers]
    record = {
        "seed": frame.seed,
        "split": frame.split.value,
        "night": frame.night,
        "background": frame.background,
        "window": asdict(w),
        "labels": labels,
        "confusers": confusers,
    }
    return json.dumps(record)


def export_yolo(
    out_dir: Path,
    cfg: DatasetConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the dataset and return the path of its ``data.yaml``.

    Files are named by seed, so an interrupted export is resumed by running it again: frames
    whose image and label already exist are skipped.
    """
    config = cfg or DatasetConfig()
    total = sum(r.count for r in config.splits.values())
    done = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "scenes.jsonl").open("a") as log:
        for split, seeds in config.splits.items():
            img_dir = out_dir / "images" / split.value
            lbl_dir = out_dir / "labels" / split.value
            img_dir.mkdir(parents=True, exist_ok=True)
            lbl_dir.mkdir(parents=True, exist_ok=True)
            for seed in seeds.seeds():
                img_path, lbl_path = img_dir / f"{seed:07d}.jpg", lbl_dir / f"{seed:07d}.txt"
                if not (img_path.exists() and lbl_path.exists()):
                    frame = make_frame(seed, split, config)
                    _write_frame(frame, img_path, lbl_path, config.jpeg_quality)
                    log.write(_manifest_line(frame) + "\n")
                done += 1
                if progress is not None:
                    progress(done, total)
    return write_data_yaml(out_dir, list(config.splits))


def _write_frame(frame: Frame, img_path: Path, lbl_path: Path, quality: int) -> None:
    scene = frame.scene
    h, w = scene.image.shape[:2]
    Image.fromarray(scene.image).save(img_path, quality=quality)
    lines = [b.yolo_line(w, h) for b in scene.labels]
    lbl_path.write_text("".join(line + "\n" for line in lines))
