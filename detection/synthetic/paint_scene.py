"""Painters for ground cover, legal buildings, trees and confusers.

A painter gets an object and, for each pixel of its bounding box, the world coordinates
(``x``, ``y``) and the object's local coordinates (``u`` along its heading, ``v`` across), all
in metres; it returns an (h, w, 3) float RGB array in [0, 1]. The renderer masks it with the
object's footprint. Working in metres keeps every pattern (corrugation pitch, lane marks, tile
rows) at its real size whatever the GSD.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from detection.synthetic.textures import FloatArray, fbm, mix, shade, speckle, value_noise
from detection.synthetic.world import ObjectKind, SceneObject

Painter = Callable[[SceneObject, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]


def _band(t: FloatArray, period_m: float, width_m: float) -> FloatArray:
    """1 on stripes ``width_m`` wide repeating every ``period_m``, else 0."""
    return (np.mod(t, period_m) < width_m).astype(np.float32)


def paint_grass(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Lawn and scrub: green with dry patches and fine blade noise."""
    s = o.texture_seed
    patches = fbm(x, y, 6.0, s, 3)
    rgb = mix(o.color, (0.45, 0.42, 0.25), np.clip((patches - 0.45) * 2.0, 0, 1))
    fine = value_noise(x, y, 0.12, s + 1)
    return shade(rgb, 0.8 + 0.35 * fine + 0.2 * fbm(x, y, 1.5, s + 2, 2))


def paint_soil(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Bare earth (Guangzhou laterite) with tyre tracks and pebbles."""
    s = o.texture_seed
    rgb = mix(o.color, (0.50, 0.45, 0.38), fbm(x, y, 4.0, s, 3))
    ruts = 0.95 + 0.1 * value_noise(x * 0.25, y, 0.5, s + 5) * fbm(x, y, 4.0, s + 6, 2)
    pebbles = speckle(x, y, 0.05, s + 3)
    return shade(rgb, ruts * (0.88 + 0.2 * pebbles + 0.1 * value_noise(x, y, 0.3, s + 4)))


def paint_asphalt(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Asphalt or concrete paving: grey with aggregate grain and stains."""
    s = o.texture_seed
    rgb = np.empty((*x.shape, 3), dtype=np.float32)
    rgb[...] = np.asarray(o.color, dtype=np.float32)
    grain = speckle(x, y, 0.03, s)
    stains = fbm(x, y, 3.0, s + 1, 3)
    factor = 0.9 + 0.12 * grain - 0.2 * np.clip(stains - 0.55, 0, 1)
    if o.kind is ObjectKind.PAVING:
        joints = np.maximum(_band(u, 3.0, 0.03), _band(v, 3.0, 0.03))
        factor = factor - 0.15 * joints
    return shade(rgb, factor)


def paint_water(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Pond or river: dark green-brown, ripples, lighter at sun glints."""
    s = o.texture_seed
    ripples = value_noise(x * 0.5, y * 2.0, 0.4, s)
    rgb = mix(o.color, (0.30, 0.38, 0.36), fbm(x, y, 8.0, s + 1, 2))
    return shade(rgb, 0.9 + 0.2 * ripples)


def paint_road(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Road: asphalt with a dashed centre line, edge lines and a kerb."""
    rgb = paint_asphalt(o, u, v, x, y)
    half_w = o.width_m / 2
    dashes = (np.abs(v) < 0.075) & (np.mod(u, 9.0) < 4.0)
    edges = np.abs(np.abs(v) - (half_w - 0.5)) < 0.075
    kerb = np.abs(v) > half_w - 0.25
    lines = (dashes | edges).astype(np.float32)[..., None]
    rgb = rgb * (1 - lines) + np.float32(0.85) * lines
    rgb[kerb] = (0.68, 0.67, 0.64)
    return rgb


def paint_roof(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Flat or pitched roof of a legal building: parapet, stains, tiles or solar panels."""
    s = o.texture_seed
    rgb = mix(o.color, (0.35, 0.34, 0.32), 0.5 * fbm(x, y, 5.0, s, 3))
    edge_m = np.minimum(o.length_m / 2 - np.abs(u), o.width_m / 2 - np.abs(v))
    factor = (
        1.0
        + 0.25 * (edge_m < 0.3).astype(np.float32)
        - 0.15 * ((edge_m >= 0.3) & (edge_m < 0.5)).astype(np.float32)
    )
    if o.kind is ObjectKind.ROOF_RED_TILE:
        ridge = np.where(v > 0, 1.08, 0.86)
        factor = (
            factor
            * ridge
            * (0.92 + 0.1 * _band(u, 0.3, 0.05))
            * (0.95 + 0.08 * speckle(u, v, 0.3, s))
        )
    elif o.kind is ObjectKind.ROOF_SOLAR:
        return _paint_solar(o, rgb * factor[..., None], u, v, edge_m)
    else:
        factor = factor * (0.93 + 0.1 * value_noise(x, y, 0.2, s + 1))
        vents = speckle(u, v, 1.5, s + 2) > 0.96
        factor = np.where(vents & (edge_m > 1.0), 0.7, factor)
    return shade(rgb, factor)


def _paint_solar(
    o: SceneObject, rgb: FloatArray, u: FloatArray, v: FloatArray, edge_m: FloatArray
) -> FloatArray:
    """Rows of dark blue photovoltaic panels with silver frames on a roof."""
    in_array = edge_m > 1.0
    row = np.mod(v, 2.2)
    panel = in_array & (row < 1.7) & (np.mod(u, 1.05) < 1.0)
    cells = 0.9 + 0.15 * np.maximum(_band(u, 0.16, 0.015), _band(row, 0.16, 0.015))
    out = rgb.copy()
    blue = np.asarray((0.10, 0.13, 0.25), dtype=np.float32)
    out[panel] = blue * cells[panel][:, None]
    frame = in_array & (row < 1.7) & ~panel
    out[frame] = (0.7, 0.72, 0.74)
    shadow_row = in_array & (row >= 1.7) & (row < 1.95)
    out[shadow_row] *= 0.5
    return out


def paint_tree(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Tree crown: clumpy foliage, lit on the sun side and darker inside."""
    s = o.texture_seed
    r = np.sqrt(u * u + v * v) / max(o.length_m / 2, 0.1)
    clumps = fbm(x, y, 0.9, s, 3)
    light = 0.65 + 0.5 * clumps - 0.25 * r + 0.15 * (u / max(o.length_m, 0.1))
    rgb = mix(o.color, (0.25, 0.35, 0.12), value_noise(x, y, 0.5, s + 1))
    return shade(rgb, light)


def paint_pool(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Swimming pool: turquoise water with caustics inside a pale stone coping."""
    s = o.texture_seed
    edge_m = np.minimum(o.length_m / 2 - np.abs(u), o.width_m / 2 - np.abs(v))
    caustics = value_noise(x, y, 0.35, s)
    depth = np.clip(u / o.length_m + 0.5, 0, 1)
    rgb = mix(o.color, (0.10, 0.45, 0.65), depth)
    rgb = shade(rgb, 0.9 + 0.2 * caustics)
    rgb[edge_m < 0.45] = (0.85, 0.82, 0.75)
    return rgb


def paint_tarp(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Loose plastic tarpaulin: strongly wrinkled, with bright folds and tie-down ropes."""
    s = o.texture_seed
    wrinkles = fbm(x, y, 0.6, s, 3)
    folds = np.abs(np.sin((u + 2.0 * wrinkles) * 5.0))
    rgb = np.empty((*x.shape, 3), dtype=np.float32)
    rgb[...] = np.asarray(o.color, dtype=np.float32)
    return shade(rgb, (0.6 + 0.5 * wrinkles + 0.2 * folds).astype(np.float32))


def paint_court(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Sports court: flat coloured surface, outer band, white lines and a centre circle."""
    s = o.texture_seed
    rgb = mix(o.color, (0.5, 0.5, 0.5), 0.15 * fbm(x, y, 3.0, s, 2))
    hl, hw = o.length_m / 2, o.width_m / 2
    outer = (np.abs(u) > hl - 1.5) | (np.abs(v) > hw - 1.5)
    rgb[outer] = shade(rgb[outer], 0.75)
    line = (
        (np.abs(np.abs(u) - (hl - 1.5)) < 0.05)
        | (np.abs(np.abs(v) - (hw - 1.5)) < 0.05)
        | (np.abs(u) < 0.05)
        | (np.abs(np.sqrt(u * u + v * v) - 1.8) < 0.05)
    )
    rgb[line & (np.abs(u) <= hl - 1.45) & (np.abs(v) <= hw - 1.45)] = (0.92, 0.92, 0.9)
    return rgb


def paint_car(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Car from above: painted body, dark windscreens, a lighter roof panel."""
    rgb = np.empty((*x.shape, 3), dtype=np.float32)
    rgb[...] = np.asarray(o.color, dtype=np.float32)
    hl, hw = o.length_m / 2, o.width_m / 2
    roundness = 1.0 - 0.25 * np.clip(np.abs(v) / hw - 0.7, 0, 1) / 0.3
    rgb = shade(rgb, roundness.astype(np.float32))
    front_glass = (u > 0.15 * hl) & (u < 0.45 * hl) & (np.abs(v) < 0.8 * hw)
    rear_glass = (u < -0.45 * hl) & (u > -0.7 * hl) & (np.abs(v) < 0.8 * hw)
    side_glass = (u >= -0.45 * hl) & (u <= 0.15 * hl) & (np.abs(np.abs(v) - 0.75 * hw) < 0.08)
    glass = front_glass | rear_glass | side_glass
    rgb[glass] = (0.08, 0.09, 0.11)
    return rgb


def paint_container(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Shipping container roof: fine transverse corrugation, rust and corner castings."""
    s = o.texture_seed
    corr = 0.9 + 0.12 * np.sin(u * 2 * np.pi / 0.28)
    rust = np.clip(fbm(x, y, 0.8, s, 3) - 0.62, 0, 1) * 2.0
    rgb = mix(o.color, (0.42, 0.25, 0.15), rust)
    hl, hw = o.length_m / 2, o.width_m / 2
    corner = (np.abs(u) > hl - 0.18) & (np.abs(v) > hw - 0.18)
    rim = (np.abs(u) > hl - 0.08) | (np.abs(v) > hw - 0.08)
    rgb = shade(rgb, corr * np.where(rim, 1.15, 1.0))
    rgb[corner] = (0.2, 0.2, 0.2)
    return rgb


SCENE_PAINTERS: dict[ObjectKind, Painter] = {
    ObjectKind.GRASS: paint_grass,
    ObjectKind.BARE_SOIL: paint_soil,
    ObjectKind.ASPHALT: paint_asphalt,
    ObjectKind.PAVING: paint_asphalt,
    ObjectKind.WATER: paint_water,
    ObjectKind.ROAD: paint_road,
    ObjectKind.ROOF_CONCRETE: paint_roof,
    ObjectKind.ROOF_RED_TILE: paint_roof,
    ObjectKind.ROOF_DARK: paint_roof,
    ObjectKind.ROOF_SOLAR: paint_roof,
    ObjectKind.TREE: paint_tree,
    ObjectKind.POOL: paint_pool,
    ObjectKind.BLUE_TARP: paint_tarp,
    ObjectKind.COURT: paint_court,
    ObjectKind.CAR: paint_car,
    ObjectKind.CONTAINER: paint_container,
}
