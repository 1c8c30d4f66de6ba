from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from api.tickets import service as tickets
from api.tickets.flows import TicketConfig, promote_clues
from api.tickets.sla import OverdueSweep
from missions.storage import session_scope

from .conftest import T0, make_active_clues


def test_the_sweep_flags_late_tickets_once_and_at_most_every_interval(district: Engine) -> None:
    make_active_clues(district, [0.0])
    (tid,) = promote_clues(district, config=TicketConfig(), now=T0)
    clock = [T0]
    sweep = OverdueSweep(district, every_s=3600.0, clock=lambda: clock[0])
    assert sweep.tick() == []  # on time
    clock[0] = T0 + timedelta(days=3)
    assert sweep.tick() == []  # not due again yet: the interval has not passed
    sweep._last = None  # the hour passed
    assert sweep.tick() == [tid]
    sweep._last = None
    assert sweep.tick() == []  # flagged once
    assert sweep.flagged == [tid]
    with session_scope(district) as s:
        last = tickets.history(s, ticket_id=tid)[-1]
    assert last.actor == "sla"
    assert "overdue since" in (last.note or "")


def test_the_sweep_needs_a_positive_interval(district: Engine) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        OverdueSweep(district, every_s=0.0, clock=lambda: datetime.now(T0.tzinfo))
