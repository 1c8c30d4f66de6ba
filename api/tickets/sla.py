"""The SLA sweep: flag overdue tickets periodically, next to whatever loop already runs.

:func:`api.tickets.service.flag_overdue` does the work (audited, announced, escalated once);
this runs it at most every ``every_s`` seconds, in its own transaction, so a delivery worker or
a cron-like ``nestpatrol tickets overdue --every 60`` can call :meth:`OverdueSweep.tick` as
often as it likes. Several sweeps at once are safe: rows are claimed with ``SKIP LOCKED`` and a
flagged ticket is never flagged again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from api.tickets.service import flag_overdue
from missions.storage import session_scope

__all__ = ["OverdueSweep"]


class OverdueSweep:
    """Runs :func:`flag_overdue` when ``every_s`` seconds have passed since the last run."""

    def __init__(
        self,
        engine: Engine,
        *,
        every_s: float = 60.0,
        actor: str = "sla",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s={every_s}: give a positive number of seconds")
        self.engine = engine
        self.every_s = every_s
        self.actor = actor
        self.clock = clock
        self._last: float | None = None
        self.flagged: list[int] = []

    def tick(self) -> list[int]:
        """Sweep if one is due; the ids flagged now (empty when not due or none late)."""
        mono = time.monotonic()
        if self._last is not None and mono - self._last < self.every_s:
            return []
        self._last = mono
        with session_scope(self.engine) as session:
            ids = flag_overdue(session, now=self.clock(), actor=self.actor)
        self.flagged.extend(ids)
        return ids

    def run(self, stop: threading.Event) -> None:
        """Sweep every ``every_s`` seconds until ``stop`` is set (for a side thread)."""
        while not stop.is_set():
            self.tick()
            stop.wait(self.every_s)
