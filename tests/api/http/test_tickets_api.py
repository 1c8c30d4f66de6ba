from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import create_user
from api.http.app import create_app
from api.tickets import service as tickets
from api.tickets.categories import load_category_table
from api.tickets.locate import Location
from api.tickets.models import TicketSource
from api.tickets.workflow import TicketStatus
from missions.settings import Settings
from missions.storage import session_scope

PASSWORD = "a long enough password"


@pytest.fixture
def client(engine: Engine, db_url: str) -> Iterator[TestClient]:
    for name, role, jur in (
        ("officer-a", Role.OFFICER, ["A"]),
        ("officer-b", Role.OFFICER, ["B"]),
        ("planner", Role.PLANNER, []),
        ("disp", Role.DISPATCHER, []),
    ):
        create_user(
            engine, username=name, password=PASSWORD, role=role, jurisdictions=jur, actor="t"
        )
    category = load_category_table().get("general_report")
    specs = [
        tickets.TicketSpec(
            source=TicketSource.OPEN311,
            category=category,
            lon=113.30 + i * 1e-3,
            lat=22.9,
            location=Location(None, "A" if i % 2 == 0 else "B"),
            description=f"r{i}",
        )
        for i in range(6)
    ]
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        ids = [r.id for r in tickets.create_tickets(s, specs=specs, actor="t", now=now)]
        for tid in ids:
            tickets.transition(s, ticket_id=tid, to=TicketStatus.FILED, actor="t", now=now)
            tickets.transition(s, ticket_id=tid, to=TicketStatus.DISPATCHED, actor="t", now=now)
    app = create_app(Settings(database_url=db_url, dev_mode=True))
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def auth(client: TestClient, user: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD}).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_officers_see_only_their_jurisdiction(client: TestClient) -> None:
    a = client.get("/api/v1/tickets", headers=auth(client, "officer-a")).json()
    assert {f["properties"]["jurisdiction"] for f in a["features"]} == {"A"}
    assert len(a["features"]) == 3
    # asking for another jurisdiction does not widen the scope
    b_as_a = client.get(
        "/api/v1/tickets", params={"jurisdiction": "B"}, headers=auth(client, "officer-a")
    ).json()
    assert b_as_a["features"] == []
    everything = client.get("/api/v1/tickets", headers=auth(client, "planner")).json()
    assert len(everything["features"]) == 6
    other = next(f["id"] for f in everything["features"] if f["properties"]["jurisdiction"] == "B")
    assert (
        client.get(f"/api/v1/tickets/{other}", headers=auth(client, "officer-a")).status_code == 404
    )
    r = client.post(
        f"/api/v1/tickets/{other}/actions",
        json={"action": "handle"},
        headers=auth(client, "officer-a"),
    )
    assert r.status_code == 404


def test_officer_actions_follow_the_workflow(client: TestClient) -> None:
    headers = auth(client, "officer-a")
    mine = [f["id"] for f in client.get("/api/v1/tickets", headers=headers).json()["features"]]
    handled = client.post(
        f"/api/v1/tickets/{mine[0]}/actions",
        json={"action": "handle", "note": "removed"},
        headers=headers,
    )
    assert handled.json()["properties"]["status"] == "handled"
    fed = client.post(
        f"/api/v1/tickets/{mine[0]}/actions", json={"action": "feedback"}, headers=headers
    )
    assert fed.json()["properties"]["status"] == "feedback"
    illegal = client.post(
        f"/api/v1/tickets/{mine[0]}/actions", json={"action": "handle"}, headers=headers
    )
    assert illegal.status_code == 409
    assert illegal.headers["content-type"].startswith("application/problem+json")
    no_reason = client.post(
        f"/api/v1/tickets/{mine[1]}/actions", json={"action": "reject"}, headers=headers
    )
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["detail"]
    rejected = client.post(
        f"/api/v1/tickets/{mine[1]}/actions",
        json={"action": "reject", "reason": "blue tarp"},
        headers=headers,
    )
    assert rejected.json()["properties"]["status"] == "rejected"
    dup = client.post(
        f"/api/v1/tickets/{mine[2]}/actions",
        json={"action": "duplicate", "original_id": mine[0]},
        headers=headers,
    )
    assert dup.json()["properties"]["status"] == "duplicate"
    history = client.get(f"/api/v1/tickets/{mine[0]}", headers=headers).json()["properties"][
        "history"
    ]
    assert [h["to_status"] for h in history][-2:] == ["handled", "feedback"]
    assert history[-1]["actor"] == "officer-a"
    planner = client.post(
        f"/api/v1/tickets/{mine[0]}/actions",
        json={"action": "feedback"},
        headers=auth(client, "planner"),
    )
    assert planner.status_code == 403


def test_ticket_pages_and_filters(client: TestClient) -> None:
    headers = auth(client, "disp")
    seen, cursor = [], None
    while True:
        params: dict[str, object] = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/tickets", params=params, headers=headers).json()
        seen += [f["id"] for f in body["features"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    dispatched = client.get(
        "/api/v1/tickets",
        params={"status": "dispatched", "bbox": "113.299,22.89,113.3025,22.91"},
        headers=headers,
    ).json()
    assert len(dispatched["features"]) == 3
