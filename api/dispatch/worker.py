"""The delivery worker: claims due outbox events and posts them as signed webhooks.

HTTP goes through one ``httpx.Client`` whose transport is injectable (the seam tests fake).
Outcomes follow the Standard Webhooks etiquette: 2xx delivered; ``410 Gone`` dead-lettered at
once; ``Retry-After`` (429/503) respected; anything else, timeouts and connection errors retried
with backoff until the horizon, then dead-lettered for manual replay.

Run as a process: ``python -m api.dispatch.worker --db URL [--until-idle]`` (or
``nestpatrol deliveries work``). Killing it at any point loses nothing: claimed rows come back
when their lease ends, and a re-sent event keeps its ``webhook-id`` for the receiver's dedupe.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.dispatch.config import DeliveryConfig, RetryPolicy
from api.dispatch.models import DeliveryStatus, EndpointRow, OutboxEventRow
from api.dispatch.service import Outcome, claim_batch, endpoint_for, record_outcomes
from api.dispatch.signing import signed_headers

__all__ = ["DeliveryWorker", "WorkerStats", "main"]


@dataclass
class WorkerStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0

    def add(self, other: WorkerStats) -> None:
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.skipped += other.skipped


class DeliveryWorker:
    """One delivery loop. Several may run at once, in threads or processes."""

    def __init__(
        self,
        engine: Engine,
        *,
        config: DeliveryConfig | None = None,
        worker_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or DeliveryConfig()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.rng = rng or random.Random()
        self.client = httpx.Client(transport=transport, timeout=self.config.timeout_s)

    def close(self) -> None:
        self.client.close()

    def run_once(self) -> WorkerStats:
        """Claim one batch, try each event once, then record all outcomes together."""
        stats = WorkerStats()
        batch = claim_batch(
            self.engine,
            worker=self.worker_id,
            limit=self.config.batch_size,
            lease_s=self.config.lease_s,
        )
        endpoints: dict[str | None, EndpointRow | None] = {}
        outcomes: list[Outcome] = []
        for event in batch:
            # never start a request the lease cannot cover: another worker may take the row
            lease_end = event.claimed_until or datetime.now(UTC)
            if datetime.now(UTC) > lease_end - timedelta(seconds=self.config.timeout_s):
                stats.skipped += 1
                continue
            if event.jurisdiction not in endpoints:
                endpoints[event.jurisdiction] = self._endpoint(event.jurisdiction)
            outcomes.append(self._deliver(event, endpoints[event.jurisdiction]))
        statuses = record_outcomes(
            self.engine,
            outcomes=outcomes,
            worker=self.worker_id,
            policy=self.config.retry,
            rng=self.rng,
        )
        for status in statuses:
            if status is DeliveryStatus.DELIVERED:
                stats.delivered += 1
            elif status is DeliveryStatus.DEAD:
                stats.dead += 1
            else:
                stats.retried += 1
        return stats

    def _endpoint(self, jurisdiction: str | None) -> EndpointRow | None:
        with Session(self.engine) as session:
            ep = endpoint_for(session, jurisdiction=jurisdiction)
            if ep is not None:
                session.expunge(ep)
            return ep

    def run(self, *, stop: threading.Event | None = None, until_idle: bool = False) -> WorkerStats:
        """Loop until ``stop`` is set, or (``until_idle``) until nothing is pending at all."""
        total = WorkerStats()
        while stop is None or not stop.is_set():
            stats = self.run_once()
            total.add(stats)
            if stats.delivered + stats.retried + stats.dead:
                continue
            if until_idle and pending_count(self.engine) == 0:
                break
            if stop is not None:
                stop.wait(self.config.idle_sleep_s)
            else:
                time.sleep(self.config.idle_sleep_s)
        return total

    def _deliver(self, event: OutboxEventRow, endpoint: EndpointRow | None) -> Outcome:
        started = time.perf_counter()

        def took_ms() -> float:
            return (time.perf_counter() - started) * 1000

        if endpoint is None:
            error = (
                f"no active endpoint for jurisdiction {event.jurisdiction!r} and no '*' "
                f"fallback; add one with `nestpatrol endpoints set {event.jurisdiction or '*'} URL`"
            )
            return Outcome(event, delivered=False, duration_ms=took_ms(), error=error)
        headers = signed_headers(endpoint.secret, event.id, event.body)
        headers["user-agent"] = f"nestpatrol-dispatch ({self.worker_id})"
        try:
            response = self.client.post(endpoint.url, content=event.body.encode(), headers=headers)
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
            return Outcome(event, delivered=False, duration_ms=took_ms(), error=error)
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(event, delivered=True, duration_ms=took_ms(), status_code=code)
        return Outcome(
            event,
            delivered=False,
            duration_ms=took_ms(),
            status_code=code,
            error=f"HTTP {code}: {response.text[:200]}",
            retry_after_s=_retry_after_s(response.headers.get("retry-after")),
            permanent=code == 410,
        )


def _retry_after_s(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own schedule


def pending_count(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(OutboxEventRow.status == DeliveryStatus.PENDING.value)
        return int(session.scalar(query) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Process entry point (used by the reliability test and by operators)."""
    from missions.storage import make_engine, require_schema  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m api.dispatch.worker")
    p.add_argument("--db", required=True, help="database URL")
    p.add_argument("--worker-id", default=None)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--lease-s", type=float, default=60.0)
    p.add_argument("--timeout-s", type=float, default=15.0)
    p.add_argument("--first-delay-s", type=float, default=5.0)
    p.add_argument("--max-delay-s", type=float, default=6 * 3600.0)
    p.add_argument("--idle-sleep-s", type=float, default=1.0)
    p.add_argument("--until-idle", action="store_true", help="exit when nothing is pending")
    args = p.parse_args(argv)
    engine = make_engine(args.db)
    require_schema(engine)
    config = DeliveryConfig(
        retry=RetryPolicy(first_delay_s=args.first_delay_s, max_delay_s=args.max_delay_s),
        batch_size=args.batch,
        lease_s=args.lease_s,
        timeout_s=args.timeout_s,
        idle_sleep_s=args.idle_sleep_s,
    )
    from api.tickets.sla import OverdueSweep  # noqa: PLC0415

    worker = DeliveryWorker(engine, config=config, worker_id=args.worker_id)
    sweep = OverdueSweep(engine, every_s=60.0)
    stop = threading.Event()
    if args.until_idle:
        sweep.tick()
    else:  # overdue tickets are flagged every minute; their events go out in this loop
        threading.Thread(target=sweep.run, args=(stop,), name="sla-sweep", daemon=True).start()
    try:
        stats = worker.run(until_idle=args.until_idle)
    finally:
        stop.set()
        worker.close()
    print(f"delivered={stats.delivered} retried={stats.retried} dead={stats.dead}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
