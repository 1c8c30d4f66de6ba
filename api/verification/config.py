"""How verification flights are planned and judged: one frozen config, design-number defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from missions.planning.camera import DEFAULT_CEILING_M
from missions.settings import Settings

__all__ = ["VerificationConfig", "config_from_settings"]


@dataclass(frozen=True)
class VerificationConfig:
    """Sizes, thresholds and where evidence crops go.

    ``box_m``: side of the square flown over the ticket's place. ``distance_m``: a detection of
    the ticket's class whose ground polygon comes this close to the ticket's point means the
    violation is still there. ``min_score``: weaker detections are listed but not counted.
    Night-construction tickets are flown in the next night window (``night_start``–``night_end``
    local): by day the site may legitimately be busy.
    """

    box_m: float = 60.0
    distance_m: float = 15.0
    min_score: float = 0.0
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    ceiling_m: float = DEFAULT_CEILING_M
    night_start: time = time(22, 0)
    night_end: time = time(6, 0)
    evidence_dir: Path | None = None
    actor: str = "system:verification"

    def __post_init__(self) -> None:
        if not 5.0 <= self.box_m <= 1000.0:
            raise ValueError(f"box_m={self.box_m}: give the verification square's side, 5–1000 m")
        if self.distance_m < 0:
            raise ValueError(f"distance_m={self.distance_m}: give metres ≥ 0")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score={self.min_score}: give a probability in 0..1")
        if self.ceiling_m <= 0:
            raise ValueError(f"ceiling_m={self.ceiling_m}: give the legal ceiling in metres")


def config_from_settings(settings: Settings) -> VerificationConfig:
    """The deployment's time zone, ceiling and evidence directory; sizes at their defaults."""
    return VerificationConfig(
        tz=settings.tz, ceiling_m=settings.ceiling_m, evidence_dir=settings.data_dir / "evidence"
    )
