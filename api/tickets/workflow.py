"""The ticket workflow: the seven-step closed loop of digital city management, plus
``rejected`` (false positive) and ``duplicate``, with reopen edges.

::

    collected → filed → dispatched → handled → feedback → verified_closed → evaluated
        │         │        │  ↑ └──→ filed      │  ↑        │    ↑               │
        │         │        │  └─────────────────┴──┘        │    └── reopen ─────┤
        └─────────┴────────┴──→ rejected | duplicate ── reopen → filed           │
                                   dispatched ←──────────── reopen ──────────────┘
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ALLOWED", "CLOSED", "REOPEN_TARGET", "TicketStatus", "allowed_next"]


class TicketStatus(StrEnum):
    COLLECTED = "collected"
    FILED = "filed"
    DISPATCHED = "dispatched"
    HANDLED = "handled"
    FEEDBACK = "feedback"
    VERIFIED_CLOSED = "verified_closed"
    EVALUATED = "evaluated"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


S = TicketStatus

#: every edge of the workflow (reopen edges included)
ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.COLLECTED: frozenset({S.FILED, S.REJECTED, S.DUPLICATE}),
    S.FILED: frozenset({S.DISPATCHED, S.REJECTED, S.DUPLICATE}),
    # an officer on site may find that a dispatched ticket repeats another
    S.DISPATCHED: frozenset({S.HANDLED, S.FILED, S.REJECTED, S.DUPLICATE}),
    S.HANDLED: frozenset({S.FEEDBACK, S.DISPATCHED}),
    S.FEEDBACK: frozenset({S.VERIFIED_CLOSED, S.DISPATCHED}),
    S.VERIFIED_CLOSED: frozenset({S.EVALUATED, S.DISPATCHED}),
    S.EVALUATED: frozenset({S.DISPATCHED}),
    S.REJECTED: frozenset({S.FILED}),
    S.DUPLICATE: frozenset({S.FILED}),
}

#: states in which a ticket needs no more work (Open311 ``closed``; no SLA clock)
CLOSED: frozenset[TicketStatus] = frozenset(
    {S.VERIFIED_CLOSED, S.EVALUATED, S.REJECTED, S.DUPLICATE}
)

#: where a reopened ticket goes: a fixed violation that came back goes to the officer again
REOPEN_TARGET: dict[TicketStatus, TicketStatus] = {
    S.VERIFIED_CLOSED: S.DISPATCHED,
    S.EVALUATED: S.DISPATCHED,
    S.REJECTED: S.FILED,
    S.DUPLICATE: S.FILED,
}


def allowed_next(status: TicketStatus) -> frozenset[TicketStatus]:
    return ALLOWED[status]
