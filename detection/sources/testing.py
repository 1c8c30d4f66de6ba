"""Seeded writers of tiny input files for tests and demos — never check binaries in.

- :func:`write_geotiff`: an RGB(A) GeoTIFF in any CRS, optionally with a nodata region.
- :func:`write_drone_jpeg`: a JPEG with DJI-style XMP (attribute or element form, either
  longitude spelling) and EXIF GPS/focal tags, from a :class:`DronePhotoSpec`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def write_geotiff(
    path: Path,
    pixels: NDArray[np.uint8],
    *,
    crs: str | None = "EPSG:32649",
    origin_xy: tuple[float, float] = (750_000.0, 2_540_000.0),
    pixel_size: float = 0.05,
    nodata_mask: NDArray[np.bool_] | None = None,
    nodata_value: int | None = None,
    tiled: bool = True,
) -> Path:
    """Write ``pixels`` (H, W, 3) as a GeoTIFF; ``nodata_mask`` True = no data.

    Without ``nodata_value`` the mask is written as an internal mask band; with it, masked
    pixels are set to that value and the value is declared as the band nodata.
    """
    import rasterio  # noqa: PLC0415
    from rasterio.errors import NotGeoreferencedWarning  # noqa: PLC0415
    from rasterio.transform import Affine  # noqa: PLC0415

    h, w = pixels.shape[:2]
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": w,
        "height": h,
        "count": 3,
        "dtype": "uint8",
    }
    if nodata_value is not None:
        profile["nodata"] = nodata_value
        if nodata_mask is not None:
            pixels = np.where(nodata_mask[..., None], np.uint8(nodata_value), pixels)
    if tiled and w >= 256 and h >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    if crs is not None:
        x0, y0 = origin_xy
        profile.update(crs=crs, transform=Affine(pixel_size, 0, x0, 0, -pixel_size, y0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # crs=None is deliberate
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(pixels.transpose(2, 0, 1))
            if nodata_mask is not None and nodata_value is None:
                dst.write_mask(np.where(nodata_mask, 0, 255).astype(np.uint8))
    return path


@dataclass(frozen=True)
class DronePhotoSpec:
    """Pose and lens tags to embed; ``None`` leaves a tag out."""

    lon_deg: float | None = 113.3841
    lat_deg: float | None = 22.9378
    relative_altitude_m: float | None = 100.0
    absolute_altitude_m: float | None = 112.5
    gimbal_yaw_deg: float | None = 0.0
    gimbal_pitch_deg: float | None = -90.0
    gimbal_roll_deg: float | None = 0.0
    focal_length_mm: float | None = 12.29
    focal_35mm_mm: int | None = 24
    old_longitude_spelling: bool = False
    xmp_as_elements: bool = False
    exif_gps: bool = False


def dji_xmp(spec: DronePhotoSpec) -> str:
    """A DJI-like XMP packet carrying the spec's pose."""
    lon_tag = "GpsLongtitude" if spec.old_longitude_spelling else "GpsLongitude"
    tags = {
        "GpsLatitude": spec.lat_deg,
        lon_tag: spec.lon_deg,
        "RelativeAltitude": spec.relative_altitude_m,
        "AbsoluteAltitude": spec.absolute_altitude_m,
        "GimbalYawDegree": spec.gimbal_yaw_deg,
        "GimbalPitchDegree": spec.gimbal_pitch_deg,
        "GimbalRollDegree": spec.gimbal_roll_deg,
        "FlightYawDegree": spec.gimbal_yaw_deg,
    }
    present = {k: f"{v:+.8f}" for k, v in tags.items() if v is not None}
    if spec.xmp_as_elements:
        body = "".join(f"<drone-dji:{k}>{v}</drone-dji:{k}>" for k, v in present.items())
        desc = f'<rdf:Description rdf:about="DJI Meta Data">{body}</rdf:Description>'
    else:
        attrs = " ".join(f'drone-dji:{k}="{v}"' for k, v in present.items())
        desc = f'<rdf:Description rdf:about="DJI Meta Data" {attrs}/>'
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/">{desc}</rdf:RDF></x:xmpmeta>'
    )


def _dms(value: float) -> tuple[float, float, float]:
    deg = int(abs(value))
    minutes = int((abs(value) - deg) * 60)
    seconds = (abs(value) - deg - minutes / 60) * 3600
    return float(deg), float(minutes), round(seconds, 4)


def write_drone_jpeg(path: Path, pixels: NDArray[np.uint8], spec: DronePhotoSpec) -> Path:
    """Write a JPEG with the spec's XMP and EXIF tags."""
    from PIL import Image  # noqa: PLC0415

    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    if spec.focal_length_mm is not None:
        ifd[0x920A] = spec.focal_length_mm
    if spec.focal_35mm_mm is not None:
        ifd[0xA405] = spec.focal_35mm_mm
    if spec.exif_gps and spec.lat_deg is not None and spec.lon_deg is not None:
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = ("N" if spec.lat_deg >= 0 else "S"), _dms(spec.lat_deg)
        gps[3], gps[4] = ("E" if spec.lon_deg >= 0 else "W"), _dms(spec.lon_deg)
        if spec.absolute_altitude_m is not None:
            gps[5], gps[6] = 0, abs(spec.absolute_altitude_m)
    xmp = b"" if spec.exif_gps else dji_xmp(spec).encode()
    Image.fromarray(pixels).save(path, format="JPEG", quality=90, exif=exif, xmp=xmp)
    return path


def _srt_stamp(t_s: float) -> str:
    ms = round(t_s * 1000)
    h, m, s = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
    return f"{h:02d}:{m:02d}:{s:02d},{ms % 1000:03d}"


def write_dji_srt(path: Path, samples: list[dict[str, float]], frame_s: float) -> Path:
    """A DJI-style SRT: one block per sample, ``frame_s`` apart; keys as DJI spells them."""
    blocks = []
    for i, values in enumerate(samples):
        t0, t1 = i * frame_s, (i + 1) * frame_s

        fields_text = " ".join(f"[{k}: {v}]" for k, v in values.items())
        blocks.append(
            f'{i + 1}\n{_srt_stamp(t0)} --> {_srt_stamp(t1)}\n<font size="28">FrameCnt: {i + 1}, '
            f"DiffTime: {round(frame_s * 1000)}ms\n2024-05-01 10:00:00.000\n{fields_text} </font>\n"
        )
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def write_video(path: Path, frames: list[NDArray[np.uint8]], fps: float) -> Path:
    """An MJPG ``.avi`` of RGB frames (needs OpenCV, which tests skip without)."""
    import importlib  # noqa: PLC0415

    cv2: Any = importlib.import_module("cv2")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path
