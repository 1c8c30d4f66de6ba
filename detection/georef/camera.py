"""A pinhole camera with a DJI-style gimbal attitude, in a local east-north-up frame.

Conventions (those of DJI's XMP tags, so photo metadata can be used as is):

- ``yaw_deg``: heading of the optical axis, degrees clockwise from true north.
- ``pitch_deg``: 0 looks at the horizon, -90 straight down (nadir).
- ``roll_deg``: rotation about the optical axis, positive turns the image's right side down.
- At nadir with yaw 0 the top of the image faces north.

Pixels are continuous: ``(0, 0)`` is the top-left corner of the first pixel; the principal
point is the image centre unless given. The local frame is an azimuthal equidistant projection
centred under the camera (metres east/north, exact distances from the centre) and the
camera's ``altitude_m`` is the up axis, in whatever vertical reference the ground model uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detection.errors import ImageInputError

Array = NDArray[np.float64]
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)


@dataclass(frozen=True)
class CameraIntrinsics:
    """Sensor and lens of a frame camera; sizes in millimetres and pixels."""

    focal_length_mm: float
    sensor_width_mm: float
    sensor_height_mm: float
    image_width_px: int
    image_height_px: int

    def __post_init__(self) -> None:
        values = (self.focal_length_mm, self.sensor_width_mm, self.sensor_height_mm)
        if min(values) <= 0 or min(self.image_width_px, self.image_height_px) <= 0:
            raise ImageInputError(
                f"camera intrinsics must be positive, got focal {self.focal_length_mm} mm, "
                f"sensor {self.sensor_width_mm}x{self.sensor_height_mm} mm, "
                f"image {self.image_width_px}x{self.image_height_px} px"
            )

    @classmethod
    def from_35mm_equivalent(
        cls, focal_length_mm: float, focal_35mm_mm: float, width_px: int, height_px: int
    ) -> CameraIntrinsics:
        """Sensor size from EXIF's 35 mm-equivalent focal length (diagonal crop factor)."""
        if focal_35mm_mm <= 0 or focal_length_mm <= 0:
            raise ImageInputError(
                f"focal lengths must be positive (got {focal_length_mm}, {focal_35mm_mm} mm); "
                "give the sensor size in a sidecar JSON instead"
            )
        diagonal_mm = FULL_FRAME_DIAGONAL_MM * focal_length_mm / focal_35mm_mm
        diagonal_px = math.hypot(width_px, height_px)
        mm_per_px = diagonal_mm / diagonal_px
        return cls(
            focal_length_mm, width_px * mm_per_px, height_px * mm_per_px, width_px, height_px
        )

    @property
    def focal_px(self) -> tuple[float, float]:
        """Focal length in pixels along x and y."""
        return (
            self.focal_length_mm * self.image_width_px / self.sensor_width_mm,
            self.focal_length_mm * self.image_height_px / self.sensor_height_mm,
        )


@dataclass(frozen=True)
class CameraPose:
    """Where the camera was and where it looked (see module doc for the angle conventions)."""

    lon_deg: float
    lat_deg: float
    altitude_m: float
    yaw_deg: float
    pitch_deg: float = -90.0
    roll_deg: float = 0.0

    def __post_init__(self) -> None:
        if not (-180.0 <= self.lon_deg <= 180.0 and -90.0 <= self.lat_deg <= 90.0):
            raise ImageInputError(
                f"camera position lon {self.lon_deg}, lat {self.lat_deg} is not a WGS-84 "
                "position; check the GPS tags or sidecar (lon/lat swapped?)"
            )

    def rotation(self) -> Array:
        """3x3 matrix whose columns are the camera's right, down and forward axes in ENU."""
        yaw, pitch, roll = (math.radians(a) for a in (self.yaw_deg, self.pitch_deg, self.roll_deg))
        forward = np.array(
            [math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), math.sin(pitch)]
        )
        right = np.array([math.cos(yaw), -math.sin(yaw), 0.0])
        down = np.cross(forward, right)
        right, down = (
            math.cos(roll) * right + math.sin(roll) * down,
            math.cos(roll) * down - math.sin(roll) * right,
        )
        return np.column_stack([right, down, forward])


class CameraModel:
    """Pixel rays and world-to-pixel projection for one photo, in the local ENU frame."""

    def __init__(self, intrinsics: CameraIntrinsics, pose: CameraPose) -> None:
        from pyproj import CRS, Transformer  # noqa: PLC0415 - heavy, deferred

        self.intrinsics = intrinsics
        self.pose = pose
        self._rotation = pose.rotation()
        local = CRS.from_proj4(
            f"+proj=aeqd +lat_0={pose.lat_deg} +lon_0={pose.lon_deg} +datum=WGS84 +units=m"
        )
        self._to_local = Transformer.from_crs(CRS.from_epsg(4326), local, always_xy=True)
        self._to_wgs84 = Transformer.from_crs(local, CRS.from_epsg(4326), always_xy=True)

    def rays(self, u_px: Array, v_px: Array) -> Array:
        """Unit ray directions ``(N, 3)`` in ENU through continuous pixel coordinates."""
        fx, fy = self.intrinsics.focal_px
        cx, cy = self.intrinsics.image_width_px / 2, self.intrinsics.image_height_px / 2
        cam = np.column_stack([(u_px - cx) / fx, (v_px - cy) / fy, np.ones_like(u_px)])
        world = cam @ self._rotation.T
        out: Array = world / np.linalg.norm(world, axis=1, keepdims=True)
        return out

    def project(self, lon_deg: Array, lat_deg: Array, height_m: Array) -> tuple[Array, Array]:
        """World points → continuous pixel coordinates (NaN for points behind the camera)."""
        east, north = self.lonlat_to_local(lon_deg, lat_deg)
        rel = np.column_stack([east, north, height_m - self.pose.altitude_m])
        cam = rel @ self._rotation
        fx, fy = self.intrinsics.focal_px
        cx, cy = self.intrinsics.image_width_px / 2, self.intrinsics.image_height_px / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(cam[:, 2] > 0, cx + fx * cam[:, 0] / cam[:, 2], np.nan)
            v = np.where(cam[:, 2] > 0, cy + fy * cam[:, 1] / cam[:, 2], np.nan)
        return u, v

    def lonlat_to_local(self, lon_deg: Any, lat_deg: Any) -> tuple[Array, Array]:
        """WGS-84 → metres east/north of the camera's nadir point."""
        e, n = self._to_local.transform(lon_deg, lat_deg)
        return np.asarray(e, dtype=np.float64), np.asarray(n, dtype=np.float64)

    def local_to_lonlat(self, east_m: Any, north_m: Any) -> tuple[Array, Array]:
        """Metres east/north of the nadir point → WGS-84 lon/lat."""
        lon, lat = self._to_wgs84.transform(east_m, north_m)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
