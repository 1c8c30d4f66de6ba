"""Tickets: the seven-step workflow of digital city management, SLA deadlines, audit, outbox."""

from api.tickets.categories import Category, CategoryTable, Severity, load_category_table
from api.tickets.flows import TicketConfig, hard_negatives, promote_clues
from api.tickets.models import TicketRead, TicketRow, TicketSource, TransitionRow
from api.tickets.service import TicketSpec
from api.tickets.workflow import ALLOWED, CLOSED, TicketStatus

__all__ = [
    "ALLOWED",
    "CLOSED",
    "Category",
    "CategoryTable",
    "Severity",
    "TicketConfig",
    "TicketRead",
    "TicketRow",
    "TicketSource",
    "TicketSpec",
    "TicketStatus",
    "TransitionRow",
    "hard_negatives",
    "load_category_table",
    "promote_clues",
]
