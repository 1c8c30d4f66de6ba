from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import create_api_key, create_user
from api.cli.main import run
from api.http.app import create_app
from api.verification import verifications_of
from missions.settings import Settings
from missions.storage import session_scope

from .conftest import detections_file, feature, handled_ticket

PASSWORD = "a long enough password"
FLOWN = "2026-11-23T03:20:00Z"


@pytest.fixture
def api(fleet: Engine) -> Iterator[tuple[TestClient, dict[str, int], str]]:
    for name, role, jur in (
        ("officer-w", Role.OFFICER, ["J-W"]),
        ("officer-e", Role.OFFICER, ["J-E"]),
        ("planner", Role.PLANNER, []),
        ("disp", Role.DISPATCHER, []),
    ):
        create_user(
            fleet, username=name, password=PASSWORD, role=role, jurisdictions=jur, actor="t"
        )
    key = create_api_key(fleet, name="patrol", role=Role.PLANNER, jurisdictions=[], actor="t")
    ids = {"west": handled_ticket(fleet, -200.0), "east": handled_ticket(fleet, 200.0)}
    url = fleet.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, dev_mode=True))
    with TestClient(app) as c:
        yield c, ids, key
    app.state.engine.dispose()


def _auth(client: TestClient, user: str) -> dict[str, str]:
    body = {"username": user, "password": PASSWORD}
    token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _collection(*features: dict[str, object]) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_lists_are_scoped_and_results_close_or_reopen(
    api: tuple[TestClient, dict[str, int], str],
) -> None:
    client, ids, key = api
    every = client.get("/api/v1/verifications", headers=_auth(client, "planner")).json()
    assert [f["properties"]["ticket_id"] for f in every["features"]] == [ids["west"], ids["east"]]
    assert every["features"][0]["geometry"]["type"] == "Polygon"
    west = client.get("/api/v1/verifications", headers=_auth(client, "officer-w")).json()
    assert [f["properties"]["ticket_id"] for f in west["features"]] == [ids["west"]]
    vid_w, vid_e = (f["id"] for f in every["features"])
    # officers do not report results; a planner's user neither; a system key does
    still = _collection(feature("construction_waste", FLOWN, -198.0, score=0.9, source="v"))
    officer = client.post(
        f"/api/v1/verifications/{vid_w}/result", json=still, headers=_auth(client, "officer-w")
    )
    assert officer.status_code == 403
    assert "API key" in officer.json()["detail"]
    failed = client.post(
        f"/api/v1/verifications/{vid_w}/result", json=still, headers={"X-API-Key": key}
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["properties"]["status"] == "failed"
    assert failed.json()["properties"]["ticket_status"] == "dispatched"
    bad = client.post(
        f"/api/v1/verifications/{vid_e}/result",
        json=_collection({"type": "Feature", "properties": {}, "geometry": None}),
        headers=_auth(client, "disp"),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    passed = client.post(
        f"/api/v1/verifications/{vid_e}/result",
        json=_collection(),
        params={"flown_at": FLOWN, "flight_id": "fl-9"},
        headers=_auth(client, "disp"),
    )
    assert passed.json()["properties"]["status"] == "passed"
    assert passed.json()["properties"]["flight_id"] == "fl-9"
    assert passed.json()["properties"]["ticket_status"] == "verified_closed"
    detail = client.get(f"/api/v1/tickets/{ids['east']}", headers=_auth(client, "officer-e"))
    props = detail.json()["properties"]
    assert [v["properties"]["status"] for v in props["verifications"]] == ["passed"]
    assert props["history"][-1]["actor"] == "system:verification"
    # the officer of the west sees the ticket back in their list, with the new evidence
    mine = client.get(f"/api/v1/tickets/{ids['west']}", headers=_auth(client, "officer-w"))
    assert mine.json()["properties"]["evidence"][-1]["verification_id"] == vid_w


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_verifications_from_the_command_line(
    fleet: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if fleet.dialect.name != "sqlite":
        pytest.skip("CLI engines stay open until exit (PostGIS warns); the service tests cover it")
    where = ["--db", fleet.url.render_as_string(hide_password=False), "--data-dir", str(tmp_path)]
    tid = handled_ticket(fleet, 200.0)
    with session_scope(fleet) as s:
        vid = str(verifications_of(s, ticket_id=tid)[0].id)
    code, out = cli(capsys, "tickets", "verifications", "--status", "requested", *where)
    assert code == 0, out
    assert "nest-w" in out
    assert "verify-" in out
    dets = detections_file(
        tmp_path / "flight.geojson", [feature("muck_truck", FLOWN, 200.0, source="x")]
    )
    code, out = cli(capsys, "tickets", "verify", vid, "--detections", str(dets), *where)
    assert code == 0, out
    assert f"ticket {tid} is verified_closed" in out
    code, out = cli(capsys, "tickets", "verify", vid, "--detections", str(dets), *where)
    assert code == 0
    assert "passed" in out
    code, out = cli(capsys, "tickets", "verify", "999999", "--detections", str(dets), *where)
    assert code == 2
    assert "nestpatrol tickets verifications" in out
    # moving a ticket to handled from the CLI says which drone will check
    other = handled_ticket(fleet, -100.0)
    cli(capsys, "tickets", "move", str(other), "dispatched", "--actor", "d", *where)
    code, out = cli(capsys, "tickets", "move", str(other), "handled", "--actor", "o", *where)
    assert code == 0, out
    assert "from nest nest-w, ETA" in out
    code, out = cli(capsys, "tickets", "overdue", *where)
    assert code == 0
    assert "tickets flagged overdue" in out
