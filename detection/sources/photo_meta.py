"""Camera pose and lens from a drone photo: DJI XMP, EXIF, or a sidecar JSON.

Precedence per field: sidecar JSON > DJI XMP > EXIF. DJI writes ``drone-dji:*`` XMP
attributes (or elements) such as ``GpsLatitude``, ``GpsLongitude`` — spelt ``GpsLongtitude``
by older firmware, both are read —, ``RelativeAltitude`` (above the take-off point),
``AbsoluteAltitude``, ``GimbalYawDegree``/``GimbalPitchDegree``/``GimbalRollDegree`` and
``FlightYawDegree``. Values are strings like ``"+100.20"``.

Sidecar JSON (``photo.json`` or ``photo.jpg.json`` next to the photo), all keys optional::

    {"lon_deg": 113.38, "lat_deg": 22.94, "relative_altitude_m": 100.0,
     "absolute_altitude_m": 112.5, "yaw_deg": 0.0, "pitch_deg": -90.0, "roll_deg": 0.0,
     "focal_length_mm": 12.29, "sensor_width_mm": 17.3, "sensor_height_mm": 13.0}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from detection.errors import ImageInputError

_XMP_ATTR = re.compile(r"drone-dji:(\w+)\s*=\s*\"([^\"]*)\"")
_XMP_ELEM = re.compile(r"<drone-dji:(\w+)>([^<]*)</drone-dji:\1>")
_DJI_KEYS = {
    "GpsLatitude": "lat_deg",
    "GpsLongitude": "lon_deg",
    "GpsLongtitude": "lon_deg",  # older firmware's spelling
    "RelativeAltitude": "relative_altitude_m",
    "AbsoluteAltitude": "absolute_altitude_m",
    "GimbalYawDegree": "yaw_deg",
    "GimbalPitchDegree": "pitch_deg",
    "GimbalRollDegree": "roll_deg",
    "FlightYawDegree": "flight_yaw_deg",
    "CalibratedFocalLength": "calibrated_focal_px",
}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_FOCAL_LENGTH, _FOCAL_35MM = 0x920A, 0xA405


@dataclass(frozen=True)
class PhotoMetadata:
    """Everything known about where a photo was taken and with which lens; None = unknown."""

    lon_deg: float | None = None
    lat_deg: float | None = None
    relative_altitude_m: float | None = None
    absolute_altitude_m: float | None = None
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    roll_deg: float | None = None
    flight_yaw_deg: float | None = None
    focal_length_mm: float | None = None
    focal_35mm_mm: float | None = None
    calibrated_focal_px: float | None = None
    sensor_width_mm: float | None = None
    sensor_height_mm: float | None = None


SIDECAR_KEYS = frozenset(f.name for f in fields(PhotoMetadata))


def parse_dji_xmp(xmp: str) -> dict[str, float]:
    """``drone-dji`` values as floats under :class:`PhotoMetadata` field names."""
    out: dict[str, float] = {}
    for key, value in [*_XMP_ATTR.findall(xmp), *_XMP_ELEM.findall(xmp)]:
        name = _DJI_KEYS.get(key)
        if name is None:
            continue
        try:
            out[name] = float(value.strip())
        except ValueError:
            continue  # a malformed tag is treated as absent; validation reports what is missing
    return out


def _rational(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        return float(value[0]) / float(value[1]) if value[1] else float("nan")
    return float(value)


def parse_exif(exif: Any) -> dict[str, float]:
    """GPS position/altitude and focal lengths from a Pillow ``Image.Exif``."""
    out: dict[str, float] = {}
    gps = exif.get_ifd(_GPS_IFD)
    try:
        if 2 in gps and 4 in gps:
            lat = sum(_rational(v) / 60**i for i, v in enumerate(gps[2]))
            lon = sum(_rational(v) / 60**i for i, v in enumerate(gps[4]))
            out["lat_deg"] = -lat if gps.get(1) == "S" else lat
            out["lon_deg"] = -lon if gps.get(3) == "W" else lon
        if 6 in gps:
            alt = _rational(gps[6])
            out["absolute_altitude_m"] = -alt if gps.get(5) in (1, b"\x01") else alt
        ifd = exif.get_ifd(_EXIF_IFD)
        if _FOCAL_LENGTH in ifd:
            out["focal_length_mm"] = _rational(ifd[_FOCAL_LENGTH])
        if _FOCAL_35MM in ifd:
            out["focal_35mm_mm"] = float(ifd[_FOCAL_35MM])
    except (TypeError, ValueError, ZeroDivisionError):
        return {k: v for k, v in out.items() if k in ("lat_deg", "lon_deg")}
    return out


def sidecar_path(photo: Path) -> Path | None:
    """The sidecar JSON of ``photo`` if one exists (``x.json`` or ``x.jpg.json``)."""
    for candidate in (photo.with_suffix(".json"), photo.with_name(photo.name + ".json")):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> dict[str, float]:
    """Sidecar values, refusing unknown keys so a typo cannot silently drop a field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ImageInputError(f"{path}: unreadable sidecar JSON ({e})") from e
    if not isinstance(raw, dict):
        raise ImageInputError(f"{path}: sidecar must be a JSON object of pose fields")
    unknown = set(raw) - SIDECAR_KEYS
    if unknown:
        raise ImageInputError(
            f"{path}: unknown sidecar keys {sorted(unknown)}; allowed: {sorted(SIDECAR_KEYS)}"
        )
    try:
        return {k: float(v) for k, v in raw.items() if v is not None}
    except (TypeError, ValueError) as e:
        raise ImageInputError(f"{path}: sidecar values must be numbers ({e})") from e


def merge_metadata(*layers: dict[str, float]) -> PhotoMetadata:
    """Later layers win: call as ``merge_metadata(exif, xmp, sidecar)``."""
    merged: dict[str, float] = {}
    for layer in layers:
        merged.update(layer)
    return PhotoMetadata(**merged)
