"""How brightly a detected object is lit against the scene around it: evidence of work lights.

At night a working site is lit — floodlights, the machines' own work lights — while a car, a
container or an idle machine parked in the dark is not. :func:`relative_light` measures that
from the pixels alone: the mean luminance inside the box divided by the median luminance of a
context window around it (the box grown by ``grow`` times its own width and height on every
side, clipped to the image: by default some 20 times the object across, so the scene's level
is not taken inside the floodlight's own pool). About 1 for an object no brighter than its
surroundings, well above 1 for a lit object on dark night ground. By day the figure carries
little meaning (the sun lights everything), so the clue rules read it only for night sightings.

Measured on the simulator's night scenes (every block of a seeded world rendered whole at
02:00, machinery and truck detections): on worlds 0–2, the 22 on lit night work all measured
≥ 4.8 and of the 126 on cars, containers and bare ground all but one ≤ 3.5 (a car under a
street lamp: 4.2), hence the clue rules' default threshold of 4; on worlds 4–6, not used to
choose it, 9 of 10 on night work measured ≥ 4 (one 3.9) and 145 of 146 others < 4 (a
container: 4.7). A clue needs only one lit night sighting, and a site is seen on several.

The measure reads one window through the same ``read`` callback the sliced detector uses, so it
works on any source (a photo in memory, an orthophoto read by windows) and never needs the whole
image.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from detection.inference._types import RgbImage
from detection.inference.slicing import TileWindow

__all__ = ["luminance", "relative_light"]

_SAMPLE_PX = 65_536
# Rec. 601 luma weights
_LUMA = np.asarray([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(image: RgbImage) -> np.ndarray:
    """Per-pixel luma (0–255, float32) of an RGB ``uint8`` image."""
    return np.asarray(image, dtype=np.float32) @ _LUMA


def relative_light(
    read: Callable[[TileWindow], RgbImage | None],
    size_wh_px: tuple[int, int],
    box_xyxy_px: tuple[float, float, float, float],
    *,
    grow: float = 10.0,
    floor: float = 1.0,
    max_context_px: int = 2048,
) -> float | None:
    """Mean luma inside the box over the median luma of its context window; ``None`` if unread.

    ``floor`` (luma units) keeps a pitch-black context from blowing the ratio up;
    ``max_context_px`` bounds each side of the window (never below the box's own), so a large
    box in an orthophoto read by windows does not pull tens of megapixels per detection.
    """
    if not (grow >= 0 and math.isfinite(grow)) or not floor > 0:
        raise ValueError(f"grow must be finite and ≥ 0 and floor > 0, got {grow}, {floor}")
    w, h = size_wh_px
    x0, y0, x1, y1 = (float(v) for v in box_xyxy_px)
    bx0, by0 = max(math.floor(x0), 0), max(math.floor(y0), 0)
    bx1, by1 = min(math.ceil(x1), w), min(math.ceil(y1), h)
    if bx1 <= bx0 or by1 <= by0:
        return None
    gx, gy = grow * (bx1 - bx0), grow * (by1 - by0)
    cx0, cx1 = _context(bx0, bx1, gx, w, max_context_px)
    cy0, cy1 = _context(by0, by1, gy, h, max_context_px)
    window = read(TileWindow(-1, cx0, cy0, cx1 - cx0, cy1 - cy0))
    if window is None:
        return None
    inside = luminance(window[by0 - cy0 : by1 - cy0, bx0 - cx0 : bx1 - cx0])
    # the scene's level from a regular subsample of at most ~_SAMPLE_PX pixels: a median of
    # 65 k pixels is as good as one of millions, and far cheaper
    step = max(1, math.ceil(math.sqrt(window.shape[0] * window.shape[1] / _SAMPLE_PX)))
    scene = luminance(window[::step, ::step])
    return float(inside.mean()) / max(float(np.median(scene)), floor)


def _context(b0: int, b1: int, grow_px: float, size: int, max_px: int) -> tuple[int, int]:
    """One axis of the context window: the box grown by ``grow_px`` each side, clipped to the
    image, and at most ``max_px`` long (centred on the box, never cutting it)."""
    c0, c1 = max(math.floor(b0 - grow_px), 0), min(math.ceil(b1 + grow_px), size)
    excess = (c1 - c0) - max(max_px, b1 - b0)
    if excess > 0:
        cut0 = min(excess // 2 + excess % 2, b0 - c0)
        cut1 = min(excess - cut0, c1 - b1)
        c0, c1 = c0 + cut0, c1 - cut1
        if (rest := (c1 - c0) - max(max_px, b1 - b0)) > 0:  # one side was short: cut the other
            c0 = min(c0 + rest, b0)
    return c0, c1
