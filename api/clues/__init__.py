"""Clues: detections clustered in space and time into one clue per object, judged by rules."""

from api.clues.config import ClueConfig
from api.clues.detection import Detection, DetectionClass, load_detections
from api.clues.flows import IngestReport, ingest_detections
from api.clues.models import ClueRow, ClueStatus, RuleName, SightingRow
from api.clues.rules import ClueCategory

__all__ = [
    "ClueCategory",
    "ClueConfig",
    "ClueRow",
    "ClueStatus",
    "Detection",
    "DetectionClass",
    "IngestReport",
    "RuleName",
    "SightingRow",
    "ingest_detections",
    "load_detections",
]
