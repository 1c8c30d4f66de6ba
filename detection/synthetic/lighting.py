"""Night-time lighting: a dim blue ambient, street lamps, site floodlights and vehicle lights.

Lights are derived from the world (roads carry lamps, objects marked ``lit`` stand in an active
site with floodlights), so the same light pools appear in every frame of a night patrol. Night
construction is exactly what the city wants found, so lit machinery stays visible while the
unlit surroundings sink into noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detection.synthetic.textures import FloatArray
from detection.synthetic.world import CameraWindow, ObjectKind, World

_LAMP = (1.0, 0.72, 0.42)
_FLOOD = (1.0, 0.97, 0.88)
_HEADLIGHT = (1.0, 1.0, 0.95)
_VEHICLES = frozenset({ObjectKind.EXCAVATOR, ObjectKind.CRANE, ObjectKind.MUCK_TRUCK})


@dataclass(frozen=True)
class NightOptions:
    """Night exposure: ambient sky-glow level, its tint, lamp spacing and light strength."""

    ambient: float = 0.09
    tint: tuple[float, float, float] = (0.75, 0.85, 1.15)
    lamp_spacing_m: float = 28.0
    lamp_sigma_m: float = 5.0
    lamp_gain: float = 0.4
    flood_sigma_m: float = 7.0
    flood_gain: float = 0.75


@dataclass(frozen=True)
class _Light:
    x_m: float
    y_m: float
    sigma_m: float
    gain: float
    color: tuple[float, float, float]


def _lights(world: World, opts: NightOptions) -> list[_Light]:
    lights: list[_Light] = []
    for obj in world.objects:
        c, s = math.cos(obj.heading_rad), math.sin(obj.heading_rad)
        if obj.kind is ObjectKind.ROAD:
            half = obj.length_m / 2
            n = int(obj.length_m // opts.lamp_spacing_m) + 1
            for k in range(n):
                u = -half + k * opts.lamp_spacing_m
                v = (obj.width_m / 2 - 0.4) * (1 if k % 2 else -1)
                x = obj.center_xy_m[0] + u * c - v * s
                y = obj.center_xy_m[1] + u * s + v * c
                lights.append(_Light(x, y, opts.lamp_sigma_m, opts.lamp_gain, _LAMP))
        if not obj.lit:
            continue
        angle = (obj.texture_seed % 360) * math.pi / 180
        dist_m = 4.0 + (obj.texture_seed % 5)
        fx = obj.center_xy_m[0] + dist_m * math.cos(angle)
        fy = obj.center_xy_m[1] + dist_m * math.sin(angle)
        lights.append(_Light(fx, fy, opts.flood_sigma_m, opts.flood_gain, _FLOOD))
        if obj.kind in _VEHICLES:
            hx = obj.center_xy_m[0] + (obj.length_m / 2 + 1.5) * c
            hy = obj.center_xy_m[1] + (obj.length_m / 2 + 1.5) * s
            lights.append(_Light(hx, hy, 1.2, 1.5, _HEADLIGHT))
    return lights


def apply_night(
    albedo: FloatArray, world: World, window: CameraWindow, opts: NightOptions
) -> FloatArray:
    """Relight a daytime albedo image for night: ambient glow plus every light in reach."""
    h, w = albedo.shape[:2]
    light = np.empty((h, w, 3), dtype=np.float32)
    light[...] = np.float32(opts.ambient) * np.asarray(opts.tint, dtype=np.float32)
    for lt in _lights(world, opts):
        reach_m = 3 * lt.sigma_m
        c0 = max(int((lt.x_m - reach_m - window.min_x_m) / window.gsd_m), 0)
        c1 = min(int((lt.x_m + reach_m - window.min_x_m) / window.gsd_m) + 1, w)
        r0 = max(int((window.max_y_m - lt.y_m - reach_m) / window.gsd_m), 0)
        r1 = min(int((window.max_y_m - lt.y_m + reach_m) / window.gsd_m) + 1, h)
        if c1 <= c0 or r1 <= r0:
            continue
        xs = window.min_x_m + (np.arange(c0, c1, dtype=np.float32) + 0.5) * window.gsd_m
        ys = window.max_y_m - (np.arange(r0, r1, dtype=np.float32) + 0.5) * window.gsd_m
        d2 = (xs[None, :] - lt.x_m) ** 2 + (ys[:, None] - lt.y_m) ** 2
        falloff = np.float32(lt.gain) * np.exp(-d2 / (2 * lt.sigma_m**2)).astype(np.float32)
        light[r0:r1, c0:c1] += falloff[..., None] * np.asarray(lt.color, dtype=np.float32)
    return (albedo * light).astype(np.float32)
