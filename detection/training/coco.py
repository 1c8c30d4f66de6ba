"""Read a COCO instances JSON as ground truth for :func:`detection.training.evaluate`.

Only what evaluation needs is read: ``images`` (id, file_name, width, height), ``annotations``
(image_id, category_id, bbox ``[x, y, w, h]`` in pixels, optional iscrowd) and ``categories``
(id, name). Category names must equal the model's class names exactly; annotations of any other
category are ignored and reported once per category. ``iscrowd=1`` regions are ignored too.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detection.classes import CLASS_NAMES
from detection.errors import DatasetError
from detection.training.metrics import FloatArray

GroundTruth = list[tuple[int, FloatArray]]
"""Class ids and xyxy pixel boxes of one image (the structure the YOLO reader returns)."""


@dataclass(frozen=True)
class CocoImage:
    """One image of the set and its ground truth."""

    image_id: int
    path: Path
    width: int
    height: int
    objects: GroundTruth


@dataclass(frozen=True)
class CocoSet:
    """The images of a COCO file (in file order) and what was left out of the ground truth."""

    images: tuple[CocoImage, ...]
    ignored_categories: dict[str, int]
    """Annotation count per category name that is not one of the model's classes."""
    crowd_ignored: int

    def notes(self) -> list[str]:
        """Human-readable lines about ignored annotations (empty when nothing was ignored)."""
        out = [
            f"ignored {n} annotation(s) of category {name!r}: not a model class "
            f"({', '.join(CLASS_NAMES)}); rename the category to a class name to score it"
            for name, n in sorted(self.ignored_categories.items())
        ]
        if self.crowd_ignored:
            out.append(f"ignored {self.crowd_ignored} iscrowd=1 annotation(s)")
        return out


def _fail(where: str, problem: str, fix: str) -> DatasetError:
    return DatasetError(f"{where}: {problem}; {fix}")


def _records(doc: dict[str, object], key: str, source: Path) -> list[dict[str, object]]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise _fail(
            str(source),
            f"no {key!r} list",
            "give a COCO instances file with 'images', 'annotations' and 'categories' lists",
        )
    for i, rec in enumerate(value):
        if not isinstance(rec, dict):
            raise _fail(f"{source}: {key}[{i}]", "is not an object", "make each entry a {...}")
    return value


def _missing(key: str, where: str) -> DatasetError:
    return _fail(where, f"missing key {key!r}", f"add {key!r} to the record")


def _int(rec: dict[str, object], key: str, where: str) -> int:
    if key not in rec:
        raise _missing(key, where)
    value = rec[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"{key!r} is {value!r}, not an integer", f"make {key!r} an integer")
    return value


def _str(rec: dict[str, object], key: str, where: str) -> str:
    if key not in rec:
        raise _missing(key, where)
    value = rec[key]
    if not isinstance(value, str):
        raise _fail(where, f"{key!r} is {value!r}, not a string", f"make {key!r} a string")
    return value


def _bbox(rec: dict[str, object], where: str) -> FloatArray:
    if "bbox" not in rec:
        raise _fail(where, "missing key 'bbox'", "add 'bbox': [x, y, width, height] in pixels")
    raw = rec["bbox"]
    if (
        not isinstance(raw, list)
        or len(raw) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
        or not all(math.isfinite(v) for v in raw)
    ):
        raise _fail(
            where,
            f"bbox {raw!r} is not 4 numbers",
            "write bbox as [x, y, width, height] in pixels",
        )
    x, y, w, h = (float(v) for v in raw)
    if w < 0 or h < 0:
        raise _fail(where, f"bbox {raw!r} has a negative size", "width and height must be >= 0")
    return np.asarray([x, y, x + w, y + h], dtype=np.float32)


def _load_json(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise DatasetError(f"{path} does not exist; pass the COCO annotations .json with --coco")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path} is not valid JSON ({e}); pass a COCO instances file") from e
    if not isinstance(doc, dict):
        raise DatasetError(f"{path} holds a JSON {type(doc).__name__}, not a COCO object {{...}}")
    return doc


def _read_categories(
    cats: list[dict[str, object]], source: Path, class_names: tuple[str, ...]
) -> dict[int, tuple[str, int | None]]:
    """Category id -> (name, model class id or None when the name is not a model class)."""
    out: dict[int, tuple[str, int | None]] = {}
    for i, rec in enumerate(cats):
        where = f"{source}: categories[{i}]"
        cid, name = _int(rec, "id", where), _str(rec, "name", where)
        if cid in out:
            raise _fail(where, f"category id {cid} repeats", "give each category a unique id")
        out[cid] = (name, class_names.index(name) if name in class_names else None)
    return out


def _read_images(images: list[dict[str, object]], source: Path, root: Path) -> dict[int, CocoImage]:
    out: dict[int, CocoImage] = {}
    for i, rec in enumerate(images):
        where = f"{source}: images[{i}]"
        iid = _int(rec, "id", where)
        path = root / _str(rec, "file_name", where)
        width, height = _int(rec, "width", where), _int(rec, "height", where)
        if iid in out:
            raise _fail(where, f"image id {iid} repeats", "give each image a unique id")
        if width <= 0 or height <= 0:
            raise _fail(where, f"size {width}x{height}", "width and height must be positive")
        if not path.is_file():
            raise _fail(
                where, f"image {path} not found", "pass the folder that holds it with --images"
            )
        out[iid] = CocoImage(iid, path, width, height, [])
    if not out:
        raise _fail(str(source), "'images' is empty", "list the labelled images in it")
    return out


def read_coco(
    annotations: Path,
    images_dir: Path | None = None,
    class_names: tuple[str, ...] = CLASS_NAMES,
) -> CocoSet:
    """Ground truth of a COCO instances file; images resolve under ``images_dir``.

    ``images_dir`` defaults to the JSON's folder. Raises :class:`DatasetError` naming the
    record (e.g. ``annotations[3]``) and the fix for malformed input or missing image files.
    """
    doc = _load_json(annotations)
    root = annotations.parent if images_dir is None else images_dir
    images = _records(doc, "images", annotations)
    anns = _records(doc, "annotations", annotations)
    categories = _read_categories(
        _records(doc, "categories", annotations), annotations, class_names
    )
    by_id = _read_images(images, annotations, root)
    ignored: Counter[str] = Counter()
    crowd = 0
    for i, rec in enumerate(anns):
        where = f"{annotations}: annotations[{i}]"
        iid, cid = _int(rec, "image_id", where), _int(rec, "category_id", where)
        box = _bbox(rec, where)
        if iid not in by_id:
            raise _fail(
                where, f"image_id {iid} is not in 'images'", "add the image or fix its image_id"
            )
        if cid not in categories:
            raise _fail(
                where,
                f"category_id {cid} is not in 'categories'",
                "add the category or fix its category_id",
            )
        crowd_flag = rec.get("iscrowd", 0)
        if crowd_flag not in (0, 1):
            raise _fail(where, f"iscrowd is {crowd_flag!r}", "use 0 or 1")
        name, cls = categories[cid]
        if crowd_flag == 1:
            crowd += 1
        elif cls is None:
            ignored[name] += 1
        else:
            by_id[iid].objects.append((cls, box))
    return CocoSet(tuple(by_id.values()), dict(ignored), crowd)


__all__ = ["CocoImage", "CocoSet", "GroundTruth", "read_coco"]
