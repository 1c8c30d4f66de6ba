"""Verification by drone: a re-flight over a handled ticket decides whether it closes.

A ticket moved to ``handled`` gets a verification sortie from the nearest able nest (validated,
stored with the schedule's sorties); the flight's detections close the ticket
(``verified_closed``) or send it back to the officer (``dispatched``) with the new evidence.
"""

from api.verification.config import VerificationConfig, config_from_settings
from api.verification.models import OPEN, VerificationRead, VerificationRow, VerificationStatus
from api.verification.service import (
    VerificationError,
    cancel_open,
    complete_verification,
    get_verification,
    list_verifications,
    mark_flown,
    request_verification,
    verifications_of,
)

__all__ = [
    "OPEN",
    "VerificationConfig",
    "VerificationError",
    "VerificationRead",
    "VerificationRow",
    "VerificationStatus",
    "cancel_open",
    "complete_verification",
    "config_from_settings",
    "get_verification",
    "list_verifications",
    "mark_flown",
    "request_verification",
    "verifications_of",
]
