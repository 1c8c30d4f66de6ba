"""Painters for the four violation classes (same contract as :mod:`paint_scene`).

Sizes follow real equipment: a corrugated steel sheet has a rib every ~0.2 m, a 20 t excavator
has ~0.6 m tracks 4.5 m long, a muck truck is 8–10 m long with a 2.3 m cab. Parts are cut from
the local frame (``u`` forward, ``v`` left) so the same object reads the same at any GSD.
"""

from __future__ import annotations

import numpy as np

from detection.synthetic.paint_scene import Painter
from detection.synthetic.textures import FloatArray, fbm, mix, shade, speckle, value_noise
from detection.synthetic.world import ObjectKind, SceneObject


def _solid(shape: tuple[int, ...], color: tuple[float, float, float]) -> FloatArray:
    out = np.empty((*shape, 3), dtype=np.float32)
    out[...] = np.asarray(color, dtype=np.float32)
    return out


def _tone(color: tuple[float, float, float], factor: float) -> FloatArray:
    """A colour scaled by a brightness factor, as a (3,) array."""
    return np.asarray(color, dtype=np.float32) * np.float32(factor)


def paint_shed(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Corrugated steel-sheet roof: ribs across the ridge, two pitches lit differently."""
    s = o.texture_seed
    rib = 0.82 + 0.3 * np.clip(np.sin(v * 2 * np.pi / 0.2) * 1.6, -1, 1) * 0.5
    pitch = np.where(v * np.cos(o.params[0] if o.params else 0.0) >= 0, 1.08, 0.84)
    ridge_cap = np.abs(v) < 0.12
    dirt = fbm(x, y, 1.5, s, 3)
    rgb = mix(o.color, (0.55, 0.55, 0.55), 0.35 * np.clip(dirt - 0.4, 0, 1))
    seams = np.mod(u, 0.9 + 0.1 * (s % 3)) < 0.03
    factor = rib * pitch * np.where(seams, 0.85, 1.0)
    factor = np.where(ridge_cap, 1.15, factor)
    hl, hw = o.length_m / 2, o.width_m / 2
    eave = (np.abs(u) > hl - 0.1) | (np.abs(v) > hw - 0.1)
    return shade(rgb, np.where(eave, 0.7, factor))


def paint_frame(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Unfinished concrete frame: beam grid, dark floors below, formwork and rebar."""
    s = o.texture_seed
    bay_m = o.params[0] if o.params else 4.0
    hl, hw = o.length_m / 2, o.width_m / 2
    beam = (np.mod(u + hl, bay_m) < 0.35) | (np.mod(v + hw, bay_m) < 0.35)
    beam |= (np.abs(u) > hl - 0.35) | (np.abs(v) > hw - 0.35)
    column = (np.mod(u + hl, bay_m) < 0.5) & (np.mod(v + hw, bay_m) < 0.5)
    cell = speckle(u + hl, v + hw, bay_m, s)
    floor = mix((0.22, 0.21, 0.2), (0.62, 0.48, 0.3), (cell > 0.55).astype(np.float32))
    rebar = (np.mod(u, 0.2) < 0.025) | (np.mod(v, 0.2) < 0.025)
    floor = np.where(((cell > 0.8) & rebar)[..., None], np.float32(0.35), floor)
    floor = shade(floor, 0.75 + 0.3 * value_noise(x, y, 0.4, s))
    concrete = mix(o.color, (0.5, 0.5, 0.48), fbm(x, y, 1.0, s + 1, 2))
    rgb = np.where(beam[..., None], concrete, floor)
    rgb[column] = shade(concrete[column], 1.12)
    return rgb


def paint_waste(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Dumped muck and debris: lumpy relief, mixed soil, broken bricks, concrete and plastic."""
    s = o.texture_seed
    radius = max(o.length_m / 2, 0.5)
    r = np.sqrt((u / radius) ** 2 + (v / max(o.width_m / 2, 0.5)) ** 2)
    relief = np.clip(1 - r, 0, 1) ** 0.7 + 0.35 * fbm(x, y, 0.8, s, 4)
    slope = np.zeros_like(relief)
    if min(relief.shape) >= 2:
        slope = np.gradient(relief, axis=1) - np.gradient(relief, axis=0)
    light = 0.75 + 6.0 * slope
    rgb = mix(o.color, (0.42, 0.36, 0.3), fbm(x, y, 1.2, s + 1, 3))
    bits = speckle(x + 0.5 * fbm(x, y, 0.5, s, 2), y, 0.09, s + 2)
    rgb[bits > 0.9] = (0.62, 0.30, 0.22)
    rgb[(bits > 0.8) & (bits <= 0.9)] = (0.66, 0.65, 0.62)
    plastic = speckle(x, y, 0.15, s + 3)
    rgb[plastic > 0.985] = (0.85, 0.85, 0.88)
    rgb[(plastic > 0.975) & (plastic <= 0.985)] = (0.2, 0.35, 0.6)
    return shade(rgb, np.clip(light, 0.45, 1.3))


def paint_excavator(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Tracked excavator: two track belts, slewing upper body with cab, boom, stick, bucket.

    ``params`` = (track length, arm reach) in metres; the arm extends along +u.
    """
    track_len = o.params[0]
    rgb = _solid(u.shape, o.color)
    body_hw = o.width_m / 2
    tracks = (np.abs(u) < track_len / 2) & (np.abs(np.abs(v) - (body_hw - 0.35)) < 0.33)
    treads = 0.6 + 0.4 * (np.mod(u, 0.25) < 0.12)
    rgb[tracks] = (0.15 * treads[tracks])[:, None]
    upper = (u > -1.8) & (u < 1.3) & (np.abs(v) < body_hw - 0.1)
    rgb[upper] = _tone(o.color, 1.0)
    rgb[upper & (u < -1.2)] = _tone(o.color, 0.7)
    cab = (u > 0.0) & (u < 1.2) & (v > 0.15) & (v < body_hw - 0.2)
    rgb[cab] = (0.12, 0.15, 0.18)
    engine = (u > -1.1) & (u < -0.2) & (np.abs(v) < 0.8)
    grille = 0.8 + 0.2 * (np.mod(v[engine], 0.15) < 0.07)
    rgb[engine] = _tone(o.color, 0.55) * grille[:, None]
    arm = (u >= 1.3) & (np.abs(v + 0.2) < 0.35)
    rgb[arm] = _tone(o.color, 1.05)
    bucket = u > o.params[1] - 0.9
    rgb[bucket & arm] = (0.22, 0.2, 0.18)
    return shade(rgb, 0.9 + 0.15 * value_noise(x, y, 0.3, o.texture_seed))


def paint_crane(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Truck crane: carrier with cab, outriggers, turret and a telescopic boom along +u."""
    carrier_len = o.params[0]
    rgb = _solid(u.shape, o.color)
    carrier = np.abs(u) <= carrier_len / 2
    wheels = carrier & (np.abs(np.abs(v) - 1.2) < 0.18) & (np.mod(u, 1.6) < 1.0)
    rgb[wheels] = (0.08, 0.08, 0.08)
    cab = (u < -carrier_len / 2 + 2.2) & carrier
    rgb[cab] = shade(rgb[cab], 0.85)
    glass = cab & (u < -carrier_len / 2 + 0.6) & (np.abs(v) < 1.0)
    rgb[glass] = (0.1, 0.12, 0.15)
    outrigger = ~carrier | (np.abs(v) > 1.35)
    rgb[outrigger] = (0.3, 0.3, 0.3)
    boom = (u > -0.5) & (np.abs(v) < 0.45)
    sections = 0.85 + 0.2 * (np.mod(u, 6.0) < 5.7)
    rgb[boom] = _tone((0.9, 0.75, 0.1), 1.0) * sections[boom][:, None]
    turret = (np.abs(u) < 1.3) & (np.abs(v) < 1.25)
    rgb[turret] = _tone(o.color, 1.1)
    return shade(rgb, 0.9 + 0.15 * value_noise(x, y, 0.3, o.texture_seed))


def paint_muck_truck(
    o: SceneObject, u: FloatArray, v: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Dump truck: cab at +u, tipping body with muck or a sealed cover, dark wheels at sides."""
    s = o.texture_seed
    hl, hw = o.length_m / 2, o.width_m / 2
    rgb = _solid(u.shape, o.color)
    cab = u > hl - 2.3
    rgb[cab & (u > hl - 0.6) & (np.abs(v) < hw - 0.2)] = (0.1, 0.12, 0.14)
    gap = (u <= hl - 2.3) & (u > hl - 2.6)
    rgb[gap] = (0.12, 0.12, 0.12)
    body = u <= hl - 2.6
    rim = body & ((np.abs(v) > hw - 0.15) | (u < -hl + 0.15))
    inner = body & ~rim
    if o.variant % 2 == 0:
        load = mix((0.5, 0.38, 0.26), (0.35, 0.3, 0.25), fbm(x, y, 0.5, s, 3))
        load = shade(load, 0.8 + 0.35 * speckle(x, y, 0.08, s + 1))
    else:
        cover = (0.2, 0.42, 0.25) if o.variant % 4 == 1 else (0.55, 0.56, 0.58)
        load = _solid(u.shape, cover)
        load = shade(load, 0.85 + 0.15 * (np.mod(u, 0.5) < 0.4))
    rgb[inner] = load[inner]
    rgb[rim] = shade(rgb[rim], 0.8)
    return shade(rgb, 0.92 + 0.12 * value_noise(x, y, 0.4, s + 2))


VIOLATION_PAINTERS: dict[ObjectKind, Painter] = {
    ObjectKind.STEEL_SHED: paint_shed,
    ObjectKind.BUILDING_FRAME: paint_frame,
    ObjectKind.WASTE_PILE: paint_waste,
    ObjectKind.EXCAVATOR: paint_excavator,
    ObjectKind.CRANE: paint_crane,
    ObjectKind.MUCK_TRUCK: paint_muck_truck,
}
