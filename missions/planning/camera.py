"""Nadir camera geometry: ground sample distance, footprint, swath and trigger spacing.

Patrol imagery must resolve a pile of construction waste or a new roof, which needs ≈3–4 cm/px,
while light drones may not fly above 120 m: :func:`patrol_survey` picks the highest altitude that
meets both (higher means wider swaths, so fewer lines and turns per km²).
"""

from __future__ import annotations

from dataclasses import dataclass

from missions.fleet.profiles import CameraSpec
from missions.planning.errors import PlanningError

__all__ = [
    "DEFAULT_CEILING_M",
    "DEFAULT_FRONT_OVERLAP",
    "DEFAULT_GSD_M",
    "DEFAULT_SIDE_OVERLAP",
    "Footprint",
    "SurveySettings",
    "altitude_for_gsd_m",
    "footprint_m",
    "gsd_m",
    "patrol_survey",
    "swath_spacing_m",
    "trigger_spacing_m",
]

DEFAULT_GSD_M = 0.035  # middle of the 3–4 cm/px patrol target
DEFAULT_CEILING_M = 120.0  # legal ceiling above ground for light drones
DEFAULT_SIDE_OVERLAP = 0.20  # patrol (not photogrammetry): ≥ 20 % side overlap
DEFAULT_FRONT_OVERLAP = 0.20


def _pixel_pitch_mm(camera: CameraSpec) -> float:
    """Size of one pixel on the sensor; the larger of the two axes (the coarser GSD)."""
    return max(
        camera.sensor_width_mm / camera.image_width_px,
        camera.sensor_height_mm / camera.image_height_px,
    )


def gsd_m(camera: CameraSpec, altitude_m: float) -> float:
    """Ground sample distance (m/px) of a nadir image taken ``altitude_m`` above ground."""
    if altitude_m <= 0:
        raise PlanningError(f"altitude must be positive, got {altitude_m} m; fly above the ground")
    return altitude_m * _pixel_pitch_mm(camera) / camera.focal_length_mm


def altitude_for_gsd_m(camera: CameraSpec, gsd_target_m: float) -> float:
    """Altitude above ground at which a nadir image has the given GSD."""
    if gsd_target_m <= 0:
        raise PlanningError(f"GSD must be positive, got {gsd_target_m} m/px; e.g. 0.035")
    return gsd_target_m * camera.focal_length_mm / _pixel_pitch_mm(camera)


@dataclass(frozen=True)
class Footprint:
    """Ground size of one nadir image: ``across_m`` (sensor width, across track) × ``along_m``."""

    across_m: float
    along_m: float


def footprint_m(camera: CameraSpec, altitude_m: float) -> Footprint:
    """Ground footprint of one nadir image; the long sensor side is flown across track."""
    if altitude_m <= 0:
        raise PlanningError(f"altitude must be positive, got {altitude_m} m; fly above the ground")
    scale = altitude_m / camera.focal_length_mm
    return Footprint(
        across_m=camera.sensor_width_mm * scale, along_m=camera.sensor_height_mm * scale
    )


def _check_overlap(overlap: float, name: str) -> None:
    if not 0.0 <= overlap < 1.0:
        raise PlanningError(f"{name} overlap must be in [0, 1), got {overlap}; e.g. 0.2 for 20 %")


def swath_spacing_m(camera: CameraSpec, altitude_m: float, side_overlap: float) -> float:
    """Distance between neighbouring survey lines so that images overlap by ``side_overlap``."""
    _check_overlap(side_overlap, "side")
    return footprint_m(camera, altitude_m).across_m * (1.0 - side_overlap)


def trigger_spacing_m(camera: CameraSpec, altitude_m: float, front_overlap: float) -> float:
    """Distance flown between two photos so that consecutive images overlap by ``front_overlap``."""
    _check_overlap(front_overlap, "front")
    return footprint_m(camera, altitude_m).along_m * (1.0 - front_overlap)


@dataclass(frozen=True)
class SurveySettings:
    """How a coverage sortie images the ground: altitude, line spacing and photo spacing."""

    altitude_m: float
    swath_spacing_m: float
    trigger_spacing_m: float
    gsd_m: float
    footprint: Footprint


def patrol_survey(
    camera: CameraSpec,
    *,
    gsd_target_m: float = DEFAULT_GSD_M,
    ceiling_m: float = DEFAULT_CEILING_M,
    side_overlap: float = DEFAULT_SIDE_OVERLAP,
    front_overlap: float = DEFAULT_FRONT_OVERLAP,
) -> SurveySettings:
    """Nadir patrol settings: the altitude for the GSD target, capped at the ceiling."""
    if ceiling_m <= 0:
        raise PlanningError(f"ceiling must be positive, got {ceiling_m} m; the legal one is 120 m")
    altitude = min(altitude_for_gsd_m(camera, gsd_target_m), ceiling_m)
    return SurveySettings(
        altitude_m=altitude,
        swath_spacing_m=swath_spacing_m(camera, altitude, side_overlap),
        trigger_spacing_m=trigger_spacing_m(camera, altitude, front_overlap),
        gsd_m=gsd_m(camera, altitude),
        footprint=footprint_m(camera, altitude),
    )
