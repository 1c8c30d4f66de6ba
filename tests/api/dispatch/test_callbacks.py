from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import Engine

from api.dispatch import service
from api.dispatch.signing import signed_headers
from api.dispatch.views import router
from api.tickets import service as tickets
from missions.storage import session_scope

from .conftest import SECRET, TestClient, make_tickets


def _client(engine: Engine) -> TestClient:
    with session_scope(engine) as s:
        service.set_endpoint(
            s, jurisdiction="J-W", url="http://w.example/h", secret=SECRET, now=datetime.now(UTC)
        )
    app = FastAPI()
    app.state.engine = engine
    app.include_router(router)
    return TestClient(app)


def _post(
    client: TestClient, msg_id: str, body: dict[str, object], **kw: object
) -> tuple[int, dict[str, object]]:
    text = json.dumps(body)
    headers = signed_headers(SECRET, msg_id, text, now=kw.get("now"))  # type: ignore[arg-type]
    r = client.post("/dispatch/callbacks", content=text, headers=headers)
    return r.status_code, r.json()


def test_callbacks_are_verified_and_applied_once(engine: Engine) -> None:
    (tid,) = make_tickets(engine, 1)
    client = _client(engine)
    body = {"ticket_id": tid, "status": "filed", "actor": "hub:clerk-3"}
    assert _post(client, "cb_1", body) == (
        200,
        {"webhook_id": "cb_1", "ticket_id": tid, "outcome": "applied filed", "replayed": False},
    )
    code, again = _post(client, "cb_1", body)  # dispatch retried the same callback
    assert (code, again["replayed"], again["outcome"]) == (200, True, "applied filed")
    code, same_state = _post(client, "cb_2", body)  # another callback, same state: no-op
    assert same_state["outcome"] == "already filed"
    with session_scope(engine) as s:
        steps = tickets.history(s, ticket_id=tid)
    assert [(t.to_status, t.actor) for t in steps] == [
        ("collected", "test"),
        ("filed", "hub:clerk-3"),
    ]


def test_bad_signature_stale_timestamp_and_illegal_step_are_refused(engine: Engine) -> None:
    (tid,) = make_tickets(engine, 1)
    client = _client(engine)
    body = {"ticket_id": tid, "status": "filed", "actor": "hub"}
    text = json.dumps(body)
    headers = signed_headers(SECRET, "cb_x", text)
    r = client.post("/dispatch/callbacks", content=text.replace("hub", "bot"), headers=headers)
    assert r.status_code == 401
    assert "no webhook-signature matches" in r.json()["detail"]
    stale = datetime.now(UTC) - timedelta(minutes=6)
    code, detail = _post(client, "cb_y", body, now=stale)
    assert code == 401
    assert "tolerance 300 s" in str(detail["detail"])
    code, detail = _post(client, "cb_z", {"ticket_id": tid, "status": "evaluated", "actor": "h"})
    assert code == 409
    assert "allowed next states" in str(detail["detail"])
    code, detail = _post(client, "cb_w", {"ticket_id": 999_999, "status": "filed", "actor": "h"})
    assert code == 404
