"""Two delivery worker processes on one PostGIS outbox never send the same event twice.

Each worker is a separate interpreter (``python -m api.dispatch.worker``), as operators run
them. The loopback receiver counts every POST by ``webhook-id`` before any dedupe, and holds
the first requests until both workers have reached it, so both are draining at the same time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from api.dispatch import service
from api.dispatch.models import DeliveryStatus, OutboxEventRow
from api.dispatch.receiver import LoopbackReceiver
from missions.storage import make_engine, session_scope, upgrade

from ...conftest import backend_url
from .conftest import SECRET, make_tickets

EVENTS = 300
ROOT = Path(__file__).resolve().parents[3]


class CountingReceiver(LoopbackReceiver):
    """Counts every POST per event id and per sender; gates until two senders have arrived."""

    def __init__(self) -> None:
        super().__init__(SECRET)
        self.posts: Counter[str] = Counter()
        self.by_worker: Counter[str] = Counter()
        self.both_here = threading.Event()

    def handle(self, headers: dict[str, str], body: str) -> int:
        worker = headers.get("user-agent", "?").rsplit("(", 1)[-1].rstrip(")")
        with self.lock:
            self.posts[headers.get("webhook-id", "?")] += 1
            self.by_worker[worker] += 1
            if len(self.by_worker) >= 2:
                self.both_here.set()
        self.both_here.wait(15)
        return super().handle(headers, body)


@pytest.fixture
def pg_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with backend_url("postgis", tmp_path_factory) as url:
        eng = make_engine(url)
        try:
            upgrade(eng)
            yield eng
        finally:
            eng.dispose()


def _worker(url: str, name: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-m", "api.dispatch.worker", "--db", url, "--worker-id", name,
        "--batch", "10", "--idle-sleep-s", "0.05", "--until-idle",
    ]  # fmt: skip
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.postgis
@pytest.mark.slow
def test_two_worker_processes_never_send_an_event_twice(
    pg_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    receiver = CountingReceiver()
    receiver.start()
    make_tickets(pg_engine, EVENTS)
    with session_scope(pg_engine) as s:
        now = datetime.now(UTC)
        service.set_endpoint(s, jurisdiction="*", url=receiver.url, secret=SECRET, now=now)
        ids = set(s.scalars(select(OutboxEventRow.id)))
    url = pg_engine.url.render_as_string(hide_password=False)
    workers = [_worker(url, "wA"), _worker(url, "wB")]
    outputs: list[str] = []
    try:
        for proc in workers:
            out, _ = proc.communicate(timeout=60)
            outputs.append(out)
            assert proc.returncode == 0, out
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        receiver.stop()
    with session_scope(pg_engine) as s:
        query = select(OutboxEventRow.status, func.count()).group_by(OutboxEventRow.status)
        by_status = {row[0]: row[1] for row in s.execute(query)}
    reported = [re.findall(r"delivered=(\d+)", out) for out in outputs]
    twice = {i: n for i, n in receiver.posts.items() if n > 1}
    with capsys.disabled():
        print(
            f"\n[two workers/postgis] events={len(ids)} posts={sum(receiver.posts.values())} "
            f"unique={len(receiver.posts)} sent-twice={len(twice)} "
            f"per-worker={dict(sorted(receiver.by_worker.items()))} worker-reports={reported} "
            f"in {time.monotonic() - started:.1f} s"
        )
    assert len(ids) == EVENTS
    assert set(receiver.posts) == ids
    assert twice == {}  # every event id was POSTed exactly once
    assert by_status == {DeliveryStatus.DELIVERED.value: EVENTS}
    assert set(receiver.by_worker) == {"wA", "wB"}
    assert min(receiver.by_worker.values()) > 0
    assert time.monotonic() - started < 30
