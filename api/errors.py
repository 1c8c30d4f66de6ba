"""Exceptions raised by :mod:`api` (clues, tickets, dispatch, Open311).

Every message says what was wrong and how to fix it::

    ApiError                               base of everything raised here
    ├── DetectionInputError (ValueError)   a detection feature is unusable; names its index
    ├── CategoryTableError (ValueError)    the category-code table file is malformed
    ├── NotFoundError (LookupError)        a clue, ticket, event or endpoint does not exist
    ├── IllegalTransitionError             a ticket cannot move from its state to the one asked
    ├── IdempotencyConflictError           an Idempotency-Key was reused with another request
    ├── SignatureError                     a webhook signature or timestamp failed verification
    └── DeliveryConfigError (ValueError)   a dispatch endpoint or secret is misconfigured
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ApiError",
    "CategoryTableError",
    "DeliveryConfigError",
    "DetectionInputError",
    "IdempotencyConflictError",
    "IllegalTransitionError",
    "NotFoundError",
    "SignatureError",
]


class ApiError(Exception):
    """Base class of every error raised by :mod:`api`."""


class DetectionInputError(ApiError, ValueError):
    """A detection feature cannot be used; ``index`` is its position in the collection."""

    def __init__(self, index: int | None, problem: str, fix: str) -> None:
        self.index = index
        self.problem = problem
        self.fix = fix
        where = "detection" if index is None else f"feature {index}"
        super().__init__(f"{where}: {problem} (fix: {fix})")


class CategoryTableError(ApiError, ValueError):
    """The category-code table is malformed or lacks a category a clue needs."""


class NotFoundError(ApiError, LookupError):
    """A clue, ticket, outbox event or endpoint was asked for by an id that does not exist."""


class IllegalTransitionError(ApiError):
    """A ticket was asked to move along an edge the workflow does not have."""

    def __init__(self, ticket_id: int, current: str, wanted: str, allowed: Iterable[str]) -> None:
        self.ticket_id = ticket_id
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(allowed)
        nexts = ", ".join(self.allowed) or "none (final state; reopen it first)"
        super().__init__(
            f"ticket {ticket_id}: cannot go from {current!r} to {wanted!r}; "
            f"allowed next states from {current!r}: {nexts}"
        )


class IdempotencyConflictError(ApiError):
    """An Idempotency-Key was seen before with a different request body."""


class SignatureError(ApiError):
    """A webhook failed verification: missing headers, stale timestamp or wrong signature."""


class DeliveryConfigError(ApiError, ValueError):
    """A dispatch endpoint, secret or retry policy is misconfigured."""
