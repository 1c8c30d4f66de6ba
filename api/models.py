"""Every table of :mod:`api`, imported for Alembic and for metadata-wide operations."""

from api.clues.models import ClueRow, ObservedAreaRow, SightingRow
from api.dispatch.models import DeliveryAttemptRow, EndpointRow, InboundCallbackRow, OutboxEventRow
from api.tickets.models import IdempotencyKeyRow, TicketRow, TransitionRow
from api.verification.models import VerificationRow

__all__ = [
    "ClueRow",
    "DeliveryAttemptRow",
    "EndpointRow",
    "IdempotencyKeyRow",
    "InboundCallbackRow",
    "ObservedAreaRow",
    "OutboxEventRow",
    "SightingRow",
    "TicketRow",
    "TransitionRow",
    "VerificationRow",
]
