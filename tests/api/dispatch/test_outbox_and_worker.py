from __future__ import annotations

import json
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select

from api.dispatch import service
from api.dispatch.config import DeliveryConfig, RetryPolicy
from api.dispatch.models import DeliveryAttemptRow, DeliveryStatus, OutboxEventRow
from api.dispatch.signing import verify
from api.dispatch.worker import DeliveryWorker
from api.tickets import service as tickets
from api.tickets.workflow import TicketStatus
from missions.storage import session_scope

from .conftest import SECRET, make_tickets

FAST = DeliveryConfig(
    retry=RetryPolicy(first_delay_s=0.01, max_delay_s=0.05, horizon_s=3600), timeout_s=1.0
)


def _endpoints(engine: Engine, **urls: str) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        for jurisdiction, url in urls.items():
            service.set_endpoint(
                s,
                jurisdiction=jurisdiction.replace("ANY", "*").replace("_", "-"),
                url=url,
                secret=SECRET,
                now=now,
            )


def _worker(engine: Engine, handler: Callable[[httpx.Request], httpx.Response]) -> DeliveryWorker:
    return DeliveryWorker(
        engine, config=FAST, transport=httpx.MockTransport(handler), rng=random.Random(1)
    )


def _events(engine: Engine) -> list[OutboxEventRow]:
    with session_scope(engine) as s:
        return service.list_events(s, limit=1000)


def test_events_are_signed_and_routed_per_jurisdiction(engine: Engine) -> None:
    make_tickets(engine, 2, "J-W")
    make_tickets(engine, 1, "J-E")
    _endpoints(engine, J_W="http://west.example/hook", ANY="http://hub.example/hook")
    seen: list[tuple[str, dict[str, object]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        event_id = verify(SECRET, dict(request.headers), body)
        assert event_id == json.loads(body)["id"]
        seen.append((request.url.host, json.loads(body)))
        return httpx.Response(204)

    stats = _worker(engine, handler).run_once()
    assert stats.delivered == 3
    assert sorted(h for h, _ in seen) == ["hub.example", "west.example", "west.example"]
    assert {b["type"] for _, b in seen} == {"ticket.created"}
    assert all(e.status == DeliveryStatus.DELIVERED for e in _events(engine))


def test_failures_back_off_then_dead_letter_and_replay(engine: Engine) -> None:
    make_tickets(engine, 1)
    _endpoints(engine, ANY="http://hub.example/hook")
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503 if len(calls) == 1 else 410)

    slow = DeliveryConfig(retry=RetryPolicy(first_delay_s=60, max_delay_s=60, horizon_s=3600))
    worker = DeliveryWorker(engine, config=slow, transport=httpx.MockTransport(flaky))
    assert worker.run_once().retried == 1
    (event,) = _events(engine)
    assert event.status == DeliveryStatus.PENDING
    assert event.next_attempt_at > datetime.now(UTC) + timedelta(seconds=30)
    assert event.last_error is not None
    assert "HTTP 503" in event.last_error
    assert worker.run_once().delivered == 0  # not due yet
    (event,) = _events(engine)
    with session_scope(engine) as s:
        s.get_one(OutboxEventRow, event.id).next_attempt_at = datetime.now(UTC)
    assert worker.run_once().dead == 1  # 410 Gone: dead-lettered at once
    with session_scope(engine) as s:
        assert [e.id for e in service.list_events(s, status=DeliveryStatus.DEAD)] == [event.id]
        assert service.replay(s, event_ids=[event.id], now=datetime.now(UTC)) == 1
    ok = _worker(engine, lambda r: httpx.Response(200))
    assert ok.run_once().delivered == 1
    with session_scope(engine) as s:
        attempts = s.scalar(select(func.count()).select_from(DeliveryAttemptRow))
    assert attempts == 3


def test_the_horizon_dead_letters_and_a_missing_endpoint_says_how_to_fix(engine: Engine) -> None:
    make_tickets(engine, 1, "J-NOWHERE")
    cfg = DeliveryConfig(retry=RetryPolicy(first_delay_s=10, max_delay_s=10, horizon_s=5))
    worker = DeliveryWorker(
        engine, config=cfg, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    )
    assert worker.run_once().dead == 1
    (event,) = _events(engine)
    assert event.last_error is not None
    assert "nestpatrol endpoints set J-NOWHERE" in event.last_error


def test_timeouts_and_refused_connections_are_retried(engine: Engine) -> None:
    make_tickets(engine, 2)
    _endpoints(engine, ANY="http://hub.example/hook")

    def broken(request: httpx.Request) -> httpx.Response:
        if "report 0" in request.content.decode():
            raise httpx.ReadTimeout("slow", request=request)
        raise httpx.ConnectError("refused", request=request)

    assert _worker(engine, broken).run_once().retried == 2
    errors = sorted(str(e.last_error).split(":")[0] for e in _events(engine))
    assert errors == ["ConnectError", "ReadTimeout"]


def test_claims_are_exclusive_until_the_lease_ends(engine: Engine) -> None:
    make_tickets(engine, 5)
    now = datetime.now(UTC)
    a = service.claim_batch(engine, worker="a", limit=3, lease_s=30, now=now)
    b = service.claim_batch(engine, worker="b", limit=10, lease_s=30, now=now)
    assert (len(a), len(b)) == (3, 2)
    assert not {e.id for e in a} & {e.id for e in b}
    assert service.claim_batch(engine, worker="c", limit=10, lease_s=30, now=now) == []
    later = service.claim_batch(
        engine, worker="c", limit=10, lease_s=30, now=now + timedelta(seconds=31)
    )
    assert len(later) == 5  # the leases ran out (workers killed): nothing is stuck


def test_ticket_change_and_event_commit_together_or_not_at_all(engine: Engine) -> None:
    (tid,) = make_tickets(engine, 1)

    def change_then_crash() -> None:
        with session_scope(engine) as s:
            now = datetime.now(UTC)
            tickets.transition(s, ticket_id=tid, to=TicketStatus.FILED, actor="o", now=now)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash before commit"):
        change_then_crash()
    with session_scope(engine) as s:
        assert tickets.get_ticket(s, ticket_id=tid).status == "collected"
        types = list(s.scalars(select(OutboxEventRow.event_type)))
    assert types == ["ticket.created"]


def test_concurrent_claims_never_share_a_row(engine: Engine) -> None:
    # on PostgreSQL this is FOR UPDATE SKIP LOCKED; on SQLite one atomic UPDATE … RETURNING
    make_tickets(engine, 24)
    now = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=4) as pool:
        claims = list(
            pool.map(
                lambda w: service.claim_batch(engine, worker=w, limit=6, lease_s=30, now=now),
                ["a", "b", "c", "d"],
            )
        )
    ids = [e.id for batch in claims for e in batch]
    assert len(ids) == len(set(ids)) == 24
