"""Evidence crops over HTTP: the JPEG bytes behind a ticket's or a clue's ``crop_sha256``."""

from api.evidence.service import EVIDENCE_SUBDIR, crop_file, visible_crop

__all__ = ["EVIDENCE_SUBDIR", "crop_file", "visible_crop"]
