"""Flight telemetry for videos: DJI ``.SRT`` subtitles or a CSV track, sampled by time.

DJI writes one subtitle block per frame, e.g.::

    1
    00:00:00,000 --> 00:00:00,033
    <font size="28">FrameCnt: 1, DiffTime: 33ms
    2024-05-01 10:00:00.123
    [focal_len: 24.00] [latitude: 22.937800] [longitude: 113.384100]
    [rel_alt: 100.000 abs_alt: 112.500] [gb_yaw: 0.0 gb_pitch: -90.0 gb_roll: 0.0] </font>

(``focal_len`` is the 35 mm-equivalent focal length; older firmware omits the gimbal.)
A CSV track has a header with ``time_s,lon_deg,lat_deg`` and any of ``relative_altitude_m,
absolute_altitude_m,yaw_deg,pitch_deg,roll_deg,focal_35mm_mm``.
"""

from __future__ import annotations

import bisect
import csv
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from detection.errors import ImageInputError

_TIME = re.compile(r"(\d+):(\d+):(\d+)[,.](\d+)\s*-->")
_FIELD = re.compile(r"\b(\w+)\s*:\s*([-+]?\d+(?:\.\d+)?)")
_SRT_KEYS = {
    "latitude": "lat_deg",
    "longitude": "lon_deg",
    "longtitude": "lon_deg",
    "rel_alt": "relative_altitude_m",
    "abs_alt": "absolute_altitude_m",
    "gb_yaw": "yaw_deg",
    "gb_pitch": "pitch_deg",
    "gb_roll": "roll_deg",
    "focal_len": "focal_35mm_mm",
}


@dataclass(frozen=True)
class TelemetrySample:
    """The aircraft and gimbal state at ``time_s`` seconds into the video."""

    time_s: float
    lon_deg: float
    lat_deg: float
    relative_altitude_m: float | None = None
    absolute_altitude_m: float | None = None
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    roll_deg: float | None = None
    focal_35mm_mm: float | None = None


def parse_dji_srt(text: str) -> list[TelemetrySample]:
    """Samples from a DJI SRT; blocks without a position are dropped."""
    samples: list[TelemetrySample] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        start = _TIME.search(block)
        if start is None:
            continue
        h, m, s, ms = (int(g) for g in start.groups())
        values = {
            _SRT_KEYS[k]: float(v)
            for k, v in _FIELD.findall(block[start.end() :])
            if k in _SRT_KEYS
        }
        if "lat_deg" in values and "lon_deg" in values:
            samples.append(TelemetrySample(h * 3600 + m * 60 + s + ms / 1000, **values))
    return samples


def read_telemetry_csv(path: Path) -> list[TelemetrySample]:
    """Samples from a CSV track (see module doc for the columns)."""
    allowed = {f.name for f in fields(TelemetrySample)}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        unknown = set(reader.fieldnames or []) - allowed
        if unknown:
            raise ImageInputError(f"{path}: unknown telemetry columns {sorted(unknown)}")
        try:
            return [
                TelemetrySample(**{k: float(v) for k, v in row.items() if v not in ("", None)})
                for row in reader
            ]
        except (TypeError, ValueError) as e:
            raise ImageInputError(f"{path}: bad telemetry row ({e})") from e


def telemetry_for(video: Path) -> list[TelemetrySample]:
    """The track of ``video`` from ``<stem>.SRT``/``.srt`` or ``<stem>.csv`` beside it."""
    for suffix in (".SRT", ".srt", ".csv"):
        candidate = video.with_suffix(suffix)
        if candidate.is_file():
            if suffix == ".csv":
                samples = read_telemetry_csv(candidate)
            else:
                samples = parse_dji_srt(candidate.read_text(encoding="utf-8", errors="replace"))
            if samples:
                return sorted(samples, key=lambda s: s.time_s)
            raise ImageInputError(f"{candidate}: telemetry file holds no positions")
    raise ImageInputError(
        f"{video}: no telemetry; put the DJI subtitle file ({video.stem}.SRT) or a CSV track "
        f"({video.stem}.csv with time_s, lon_deg, lat_deg, ...) next to the video"
    )


def sample_at(track: list[TelemetrySample], time_s: float) -> TelemetrySample:
    """Position and altitudes interpolated linearly; angles and focal from the nearest sample.

    Angles are not interpolated (yaw wraps at ±180°); at 30 Hz telemetry the nearest sample is
    within 17 ms.
    """
    times = [s.time_s for s in track]
    i = bisect.bisect_left(times, time_s)
    if i <= 0 or i >= len(track):
        return replace(track[0 if i <= 0 else -1], time_s=time_s)
    a, b = track[i - 1], track[i]
    w = (time_s - a.time_s) / (b.time_s - a.time_s) if b.time_s > a.time_s else 0.0
    nearest = a if w < 0.5 else b

    def lerp(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else x + (y - x) * w

    return replace(
        nearest,
        time_s=time_s,
        lon_deg=a.lon_deg + (b.lon_deg - a.lon_deg) * w,
        lat_deg=a.lat_deg + (b.lat_deg - a.lat_deg) * w,
        relative_altitude_m=lerp(a.relative_altitude_m, b.relative_altitude_m),
        absolute_altitude_m=lerp(a.absolute_altitude_m, b.absolute_altitude_m),
    )
