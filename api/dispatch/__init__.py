"""Dispatch: the transactional outbox, signed webhook delivery, inbound status callbacks."""

from api.dispatch.config import DeliveryConfig, RetryPolicy
from api.dispatch.models import DeliveryStatus, EventType, OutboxEventRow
from api.dispatch.signing import new_secret, sign, signed_headers, verify
from api.dispatch.worker import DeliveryWorker, WorkerStats

__all__ = [
    "DeliveryConfig",
    "DeliveryStatus",
    "DeliveryWorker",
    "EventType",
    "OutboxEventRow",
    "RetryPolicy",
    "WorkerStats",
    "new_secret",
    "sign",
    "signed_headers",
    "verify",
]
