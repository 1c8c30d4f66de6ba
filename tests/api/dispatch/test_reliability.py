"""Delivery survives a hostile receiver and a worker killed with SIGKILL mid-delivery.

The receiver (real HTTP on loopback) fails half the requests, stalls past the sender's timeout
on some, and is down for a while; the first worker process is killed while a request is in
flight and a second one is started. At the end every event is delivered, none is lost, and the
receiver processed each event id exactly once after its dedupe on ``webhook-id``.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess

import pytest
from sqlalchemy import Engine, func, select

from api.dispatch import service
from api.dispatch.models import DeliveryAttemptRow, DeliveryStatus, OutboxEventRow
from api.dispatch.receiver import Chaos, LoopbackReceiver
from api.dispatch.worker import main as worker_main
from missions.storage import session_scope

from .conftest import SECRET, make_tickets

EVENTS = 30
TIMEOUT_S = 0.3


def _worker(url: str, name: str, *, until_idle: bool) -> BaseProcess:
    """A worker process (forked: no interpreter start-up, so the test stays well under 30 s)."""
    argv = [
        "--db", url, "--worker-id", name, "--batch", "8", "--lease-s", "1.5",
        "--timeout-s", str(TIMEOUT_S), "--first-delay-s", "0.05", "--max-delay-s", "0.3",
        "--idle-sleep-s", "0.05", *(["--until-idle"] if until_idle else []),
    ]  # fmt: skip
    proc = multiprocessing.get_context("fork").Process(
        target=worker_main, args=(argv,), name=name, daemon=True
    )
    proc.start()
    return proc


@pytest.mark.slow
def test_every_event_is_delivered_once_despite_chaos_and_sigkill(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    rng = random.Random(20261123)
    rng_lock = threading.Lock()

    def chaos(n: int) -> Chaos:
        with rng_lock:
            x = rng.random()
        return Chaos.FAIL if x < 0.5 else Chaos.STALL if x < 0.6 else Chaos.OK

    receiver = LoopbackReceiver(SECRET, chaos=chaos, stall_s=TIMEOUT_S * 2)
    receiver.start()
    in_flight = threading.Event()

    def hold_one(n: int) -> None:
        # the 10th request is held open: the worker is killed while it waits for the answer
        if n == 10:
            in_flight.set()
            time.sleep(1.0)

    receiver.on_request = hold_one
    make_tickets(engine, EVENTS)
    with session_scope(engine) as s:
        service.set_endpoint(s, jurisdiction="*", url=receiver.url, secret=SECRET, now=_now())
    _kill_and_restart(engine, receiver, in_flight)
    with session_scope(engine) as s:
        query = select(OutboxEventRow.status, func.count()).group_by(OutboxEventRow.status)
        by_status = {row[0]: row[1] for row in s.execute(query)}
        ids = set(s.scalars(select(OutboxEventRow.id)))
        attempts = s.scalar(select(func.count()).select_from(DeliveryAttemptRow))
    refused = _refusals(engine, "w2")
    counts = receiver.counts
    with capsys.disabled():
        print(
            f"\n[reliability/{engine.dialect.name}] events={len(ids)} delivered="
            f"{by_status.get(DeliveryStatus.DELIVERED.value, 0)} requests={counts.requests} "
            f"failed(500)={counts.failed} stalled(timeouts)={counts.stalled} "
            f"refused-while-down={refused} recorded-attempts={attempts} "
            f"duplicates-deduped={counts.duplicates} processed-unique={len(counts.processed)} "
            f"in {time.monotonic() - started:.1f} s"
        )
    assert by_status == {DeliveryStatus.DELIVERED.value: EVENTS}  # none lost, none dead
    assert set(counts.processed) == ids
    assert set(counts.processed.values()) == {1}  # each id processed exactly once
    assert counts.failed > 0
    assert counts.stalled > 0
    assert refused > 0
    assert time.monotonic() - started < 30


def _kill_and_restart(
    engine: Engine, receiver: LoopbackReceiver, in_flight: threading.Event
) -> None:
    """SIGKILL the first worker mid-request; restart one while the receiver is down."""
    url = engine.url.render_as_string(hide_password=False)
    workers: list[BaseProcess] = []
    try:
        workers.append(_worker(url, "w1", until_idle=False))
        assert in_flight.wait(20), "the first worker never reached the receiver"
        assert workers[0].pid is not None
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].join(5)
        assert workers[0].exitcode == -signal.SIGKILL
        receiver.stop()  # down for a while: the restarted worker meets refused connections
        workers.append(_worker(url, "w2", until_idle=True))
        _wait_for_refusals(engine, "w2", limit_s=15)
        receiver.start()
        workers[1].join(20)
        assert workers[1].exitcode == 0
    finally:
        for proc in workers:
            if proc.is_alive():
                proc.kill()
                proc.join()
        receiver.stop()


def _now() -> datetime:
    return datetime.now(UTC)


def _refusals(engine: Engine, worker: str) -> int:
    with session_scope(engine) as s:
        query = select(func.count()).where(
            DeliveryAttemptRow.worker == worker, DeliveryAttemptRow.error.like("ConnectError%")
        )
        return int(s.scalar(query) or 0)


def _wait_for_refusals(engine: Engine, worker: str, *, limit_s: float) -> None:
    """Keep the receiver down until the new worker has been refused at least once."""
    end = time.monotonic() + limit_s
    while _refusals(engine, worker) == 0:
        assert time.monotonic() < end, f"worker {worker} made no attempt in {limit_s} s"
        time.sleep(0.05)
    time.sleep(0.3)
