"""Evidence crops: the detected object with a margin, as JPEG, stored by content hash.

Content addressing makes storing idempotent (re-ingesting a file writes nothing new) and lets a
ticket cite its evidence by a hash that proves the bytes were not altered afterwards.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

__all__ = ["EvidenceRef", "store_crop"]


@dataclass(frozen=True)
class EvidenceRef:
    """A stored crop: its SHA-256 and its path relative to the evidence directory."""

    sha256: str
    relative_path: str


def store_crop(
    frame: Path,
    pixel_box: tuple[int, int, int, int],
    evidence_dir: Path,
    *,
    margin_frac: float = 0.25,
    min_margin_px: int = 16,
    quality: int = 85,
) -> EvidenceRef | None:
    """Crop ``pixel_box`` (plus margin) out of ``frame``; ``None`` if the frame is unreadable."""
    try:
        with Image.open(frame) as img:
            box = _with_margin(pixel_box, img.size, margin_frac, min_margin_px)
            crop = img.crop(box).convert("RGB")
    except (OSError, UnidentifiedImageError):
        return None
    buf = io.BytesIO()
    crop.save(buf, format="JPEG", quality=quality)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{digest[:2]}/{digest}.jpg"
    target = evidence_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return EvidenceRef(digest, relative)


def _with_margin(
    box: tuple[int, int, int, int], size: tuple[int, int], frac: float, min_px: int
) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    mx = max(min_px, round((x1 - x0) * frac))
    my = max(min_px, round((y1 - y0) * frac))
    w, h = size
    return max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
