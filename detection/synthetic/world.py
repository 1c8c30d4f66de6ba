"""The ground-truth vector description of a synthetic world.

A :class:`World` is a list of :class:`SceneObject` in a local metric frame (x east, y north,
metres). Nothing here knows about pixels: the renderer turns a world into an image for any nadir
camera window, so the patrol simulator and the dataset exporter draw the same world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from shapely import affinity
from shapely.geometry import Polygon, box

from detection.classes import ViolationClass
from detection.errors import SceneError


class ObjectKind(Enum):
    """What an object is; decides how it is painted and whether it carries a label."""

    # ground cover, drawn first
    GRASS = "grass"
    BARE_SOIL = "bare_soil"
    ASPHALT = "asphalt"
    PAVING = "paving"
    WATER = "water"
    ROAD = "road"
    # legal buildings
    ROOF_CONCRETE = "roof_concrete"
    ROOF_RED_TILE = "roof_red_tile"
    ROOF_DARK = "roof_dark"
    ROOF_SOLAR = "roof_solar"
    TREE = "tree"
    # violations
    STEEL_SHED = "steel_shed"
    BUILDING_FRAME = "building_frame"
    WASTE_PILE = "waste_pile"
    EXCAVATOR = "excavator"
    CRANE = "crane"
    MUCK_TRUCK = "muck_truck"
    # confusers: legal look-alikes that must not fire
    POOL = "pool"
    BLUE_TARP = "blue_tarp"
    COURT = "court"
    CAR = "car"
    CONTAINER = "container"


GROUND_KINDS: frozenset[ObjectKind] = frozenset(
    {
        ObjectKind.GRASS,
        ObjectKind.BARE_SOIL,
        ObjectKind.ASPHALT,
        ObjectKind.PAVING,
        ObjectKind.WATER,
        ObjectKind.ROAD,
    }
)

CONFUSER_KINDS: frozenset[ObjectKind] = frozenset(
    {
        ObjectKind.POOL,
        ObjectKind.BLUE_TARP,
        ObjectKind.COURT,
        ObjectKind.CAR,
        ObjectKind.CONTAINER,
    }
)

LABEL_OF_KIND: dict[ObjectKind, ViolationClass] = {
    ObjectKind.STEEL_SHED: ViolationClass.ILLEGAL_STRUCTURE,
    ObjectKind.BUILDING_FRAME: ViolationClass.ILLEGAL_STRUCTURE,
    ObjectKind.WASTE_PILE: ViolationClass.CONSTRUCTION_WASTE,
    ObjectKind.EXCAVATOR: ViolationClass.CONSTRUCTION_MACHINERY,
    ObjectKind.CRANE: ViolationClass.CONSTRUCTION_MACHINERY,
    ObjectKind.MUCK_TRUCK: ViolationClass.MUCK_TRUCK,
}

Rgb = tuple[float, float, float]


@dataclass(frozen=True)
class SceneObject:
    """One object of the world.

    ``footprint`` is the ground polygon in metres (what a label box is computed from);
    ``center_xy_m``, ``heading_rad``, ``length_m`` and ``width_m`` give the painter a local
    frame (u along ``heading_rad``, v across) so parts are drawn in metres, not pixels.
    ``base_m`` is the height the object stands on (a rooftop shed stands on its building),
    ``height_m`` its own height (for shadows). ``texture_seed`` makes texture a function of the
    world only, so every camera window sees the same wrinkles. ``lit`` marks objects with working
    lights at night (an active site).
    """

    kind: ObjectKind
    footprint: Polygon
    center_xy_m: tuple[float, float]
    heading_rad: float
    length_m: float
    width_m: float
    color: Rgb
    height_m: float = 0.0
    base_m: float = 0.0
    texture_seed: int = 0
    lit: bool = False
    variant: int = 0
    params: tuple[float, ...] = ()

    @property
    def label(self) -> ViolationClass | None:
        """Violation class, or ``None`` for background and confusers."""
        return LABEL_OF_KIND.get(self.kind)

    @property
    def is_ground(self) -> bool:
        """Ground cover is painted before everything else and casts no shadow."""
        return self.kind in GROUND_KINDS


@dataclass(frozen=True)
class Sun:
    """Direction of sunlight; shadows fall away from ``azimuth_rad`` (clockwise from north)."""

    azimuth_rad: float = math.radians(135.0)
    elevation_rad: float = math.radians(55.0)

    def shadow_offset_m(self, height_m: float) -> tuple[float, float]:
        """Ground offset of the shadow of a point ``height_m`` above the ground."""
        length_m = height_m / math.tan(self.elevation_rad)
        return (-length_m * math.sin(self.azimuth_rad), -length_m * math.cos(self.azimuth_rad))


@dataclass(frozen=True)
class World:
    """A metric world: its extent, its objects in painting order, the sun and a base ground."""

    extent: tuple[float, float, float, float]
    objects: tuple[SceneObject, ...]
    sun: Sun = field(default_factory=Sun)
    ground_kind: ObjectKind = ObjectKind.GRASS
    seed: int = 0

    def labelled(self) -> list[SceneObject]:
        """Objects that carry a violation label."""
        return [o for o in self.objects if o.label is not None]


@dataclass(frozen=True)
class CameraWindow:
    """A nadir camera's ground rectangle in the world frame and its ground sample distance.

    The image is ``width_px`` × ``height_px``; pixel (col, row) covers ground
    ``x = min_x + (col + 0.5) * gsd_m``, ``y = max_y - (row + 0.5) * gsd_m`` (north up).
    """

    min_x_m: float
    min_y_m: float
    width_px: int
    height_px: int
    gsd_m: float = 0.035

    def __post_init__(self) -> None:
        if not (self.gsd_m > 0 and math.isfinite(self.gsd_m)):
            raise SceneError(f"gsd_m must be a positive number, got {self.gsd_m}")
        if self.width_px < 1 or self.height_px < 1 or self.width_px * self.height_px > 64e6:
            raise SceneError(
                f"window of {self.width_px}x{self.height_px} px is empty or too large; "
                "use 1..64 Mpx and tile bigger areas"
            )

    @classmethod
    def centered(cls, x_m: float, y_m: float, size_px: int, gsd_m: float) -> CameraWindow:
        """A square window of ``size_px`` centred on a ground point."""
        half_m = size_px * gsd_m / 2
        return cls(x_m - half_m, y_m - half_m, size_px, size_px, gsd_m)

    @property
    def max_x_m(self) -> float:
        """East edge of the window."""
        return self.min_x_m + self.width_px * self.gsd_m

    @property
    def max_y_m(self) -> float:
        """North edge of the window."""
        return self.min_y_m + self.height_px * self.gsd_m

    @property
    def ground(self) -> Polygon:
        """The window's ground rectangle."""
        return box(self.min_x_m, self.min_y_m, self.max_x_m, self.max_y_m)


def oriented_rect(
    center_xy_m: tuple[float, float], length_m: float, width_m: float, heading_rad: float
) -> Polygon:
    """Rectangle of ``length_m`` along ``heading_rad`` (radians counter-clockwise from east)."""
    rect = box(-length_m / 2, -width_m / 2, length_m / 2, width_m / 2)
    rect = affinity.rotate(rect, heading_rad, origin=(0, 0), use_radians=True)
    return affinity.translate(rect, center_xy_m[0], center_xy_m[1])


def local_rect(
    obj_center: tuple[float, float],
    heading_rad: float,
    u_range: tuple[float, float],
    v_range: tuple[float, float],
) -> Polygon:
    """Rectangle given in an object's local frame (u along heading, v across), in world metres."""
    rect = box(u_range[0], v_range[0], u_range[1], v_range[1])
    rect = affinity.rotate(rect, heading_rad, origin=(0, 0), use_radians=True)
    return affinity.translate(rect, obj_center[0], obj_center[1])
