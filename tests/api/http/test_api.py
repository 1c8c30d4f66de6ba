from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.auth.models import AuditEntry, Role
from api.auth.service import create_user
from api.http.app import create_app
from missions.errors import MissionsError
from missions.fleet import Nest
from missions.flows.grid import build_and_store
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.settings import Settings
from missions.storage import save_layer, save_nests

DISTRICT = shapely.box(113.30, 22.90, 113.32, 22.92)
PASSWORD = "a long enough password"


@pytest.fixture
def client(engine: Engine, db_url: str) -> Iterator[TestClient]:
    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["D"]}, geometry=[DISTRICT], crs=WGS84),
        source="t",
    )
    build_and_store(engine, cell_size_m=250)
    save_nests(engine, [Nest("N01", 113.31, 22.91, 5.0)])
    create_user(
        engine, username="admin", password=PASSWORD, role=Role.ADMIN, jurisdictions=[], actor="test"
    )
    create_user(
        engine,
        username="officer",
        password=PASSWORD,
        role=Role.OFFICER,
        jurisdictions=["J1"],
        actor="test",
    )
    app = create_app(Settings(database_url=db_url, dev_mode=True, login_attempts_per_minute=5))
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def token(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def assert_problem(r: object, status: int, text: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert text in body["detail"]


def test_login_me_and_roles(client: TestClient) -> None:
    admin = token(client, "admin")
    assert client.get("/api/v1/me", headers=admin).json() == {
        "name": "admin",
        "role": "admin",
        "jurisdictions": [],
    }
    assert_problem(client.get("/api/v1/me"), 401, "Authorization: Bearer")
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}),
        401,
        "invalid access token",
    )
    assert_problem(
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong!"}),
        401,
        "wrong user name",
    )
    officer = token(client, "officer")
    new = {"username": "planner1", "password": PASSWORD, "role": "planner"}
    assert_problem(
        client.post("/api/v1/users", json=new, headers=officer), 403, "needs the role admin"
    )
    assert client.post("/api/v1/users", json=new, headers=admin).status_code == 201
    assert client.get("/api/v1/me", headers=token(client, "planner1")).json()["role"] == "planner"


def test_writes_are_audited(client: TestClient, engine: Engine) -> None:
    client.post(
        "/api/v1/users",
        json={"username": "disp", "password": PASSWORD, "role": "dispatcher"},
        headers=token(client, "admin"),
    )
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id)).all()
    assert ("admin", "user.create", "disp") in [tuple(r) for r in rows]


def test_login_is_rate_limited(client: TestClient) -> None:
    bad = {"username": "admin", "password": "nope nope nope"}
    codes = [client.post("/api/v1/auth/login", json=bad).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    r = client.post("/api/v1/auth/login", json=bad)
    assert_problem(r, 429, "wait")
    assert int(r.headers["retry-after"]) > 0


def test_api_keys_hashed_and_working(client: TestClient, engine: Engine) -> None:
    r = client.post(
        "/api/v1/api-keys", json={"name": "dispatch hub"}, headers=token(client, "admin")
    )
    key = r.json()["key"]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).json()["role"] == "dispatcher"
    assert_problem(
        client.get("/api/v1/me", headers={"X-API-Key": key + "x"}), 401, "unknown or revoked"
    )
    from api.auth.models import ApiKey

    with engine.connect() as conn:
        stored = conn.execute(select(ApiKey.key_hash)).scalar_one()
    assert key not in stored
    assert len(stored) == 64


def test_cells_pages_cover_the_bbox_exactly_once(client: TestClient) -> None:
    auth = token(client, "admin")
    bbox = "113.305,22.905,113.315,22.915"
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"bbox": bbox, "limit": 7} | ({"cursor": cursor} if cursor else {})
        r = client.get("/api/v1/cells", params=params, headers=auth)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/geo+json"
        body = r.json()
        seen += [f["id"] for f in body["features"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    everything = client.get(
        "/api/v1/cells", params={"bbox": bbox, "limit": 5000}, headers=auth
    ).json()
    assert pages > 2
    assert len(seen) == len(set(seen)) == len(everything["features"]) > 0
    feature = everything["features"][0]
    assert set(feature["properties"]) >= {
        "cell_id",
        "jurisdiction",
        "priority",
        "revisit_target_s",
        "no_fly",
    }


BAD_QUERIES: list[tuple[dict[str, object], int, str]] = [
    ({"cursor": "not-a-cursor"}, 400, "cursor"),
    ({"bbox": "1,2,3"}, 400, "needs 4 numbers"),
    ({"bbox": "22.9,113.3,23.0,113.4"}, 400, "longitude first"),
    ({"bbox": "a,b,c,d"}, 400, "four numbers"),
    ({"limit": 0}, 422, "limit"),
    ({"priority": "urgent"}, 422, "priority"),
]


def test_bad_queries_are_problems(client: TestClient) -> None:
    auth = token(client, "admin")
    for params, status, text in BAD_QUERIES:
        assert_problem(client.get("/api/v1/cells", params=params, headers=auth), status, text)


def test_geography_and_nests(client: TestClient) -> None:
    auth = token(client, "admin")
    boundary = client.get("/api/v1/geography/boundary", headers=auth).json()
    assert boundary["type"] == "FeatureCollection"
    assert len(boundary["features"]) == 1
    assert_problem(client.get("/api/v1/geography/rivers", headers=auth), 422, "layer")
    nests = client.get("/api/v1/nests", headers=auth).json()
    assert nests["features"][0]["id"] == "N01"
    assert nests["features"][0]["geometry"]["coordinates"] == [113.31, 22.91]


def test_openapi_document_is_complete(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert {"/api/v1/auth/login", "/api/v1/cells", "/api/v1/nests", "/api/v1/me"} <= set(
        doc["paths"]
    )


def test_refuses_the_default_secret_outside_dev_mode(db_url: str, engine: Engine) -> None:
    with pytest.raises(MissionsError, match="refusing to start"):
        create_app(Settings(database_url=db_url))
    with pytest.raises(MissionsError, match="refusing to start"):
        create_app(Settings(database_url=db_url, secret_key="short"))
    app = create_app(Settings(database_url=db_url, secret_key="x" * 40))
    app.state.engine.dispose()


def test_coverage_stats_and_cells(client: TestClient, engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from patrol.storage import FlightRecord, FrameRecord, record_flight

    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    frame = FrameRecord("f1", t0, shapely.box(113.301, 22.901, 113.309, 22.909))
    n = record_flight(engine, FlightRecord("F1", t0, t0 + timedelta(minutes=9)), [frame])
    assert n > 0
    auth = token(client, "admin")
    at = (t0 + timedelta(hours=2)).isoformat()
    stats = client.get("/api/v1/coverage/stats", params={"at": at}, headers=auth).json()
    standard = next(r for r in stats["by_priority"] if r["key"] == "standard")
    assert standard["seen_in_window"] == n
    assert 0 < standard["within_target"] < 1
    cells = client.get(
        "/api/v1/coverage/cells",
        params={"at": at, "bbox": "113.30,22.90,113.31,22.91"},
        headers=auth,
    ).json()
    hours = [f["properties"]["hours_since_seen"] for f in cells["features"]]
    assert sum(1 for h in hours if h is not None and abs(h - 2) < 1e-6) == n
    assert_problem(
        client.get("/api/v1/coverage/stats", params={"window_hours": -1}, headers=auth),
        422,
        "window_hours",
    )


def test_coverage_exports(client: TestClient, engine: Engine, tmp_path: object) -> None:
    import csv
    import io
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from patrol.storage import FlightRecord, FrameRecord, record_flight

    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    record_flight(
        engine,
        FlightRecord("F1", t0, t0),
        [FrameRecord("f1", t0, shapely.box(113.301, 22.901, 113.309, 22.909))],
    )
    auth = token(client, "admin")
    at = (t0 + timedelta(hours=2)).isoformat()
    r = client.get("/api/v1/coverage/export", params={"format": "csv", "at": at}, headers=auth)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    seen = [row for row in rows if row["last_seen"]]
    assert seen
    assert all(row["last_seen"] == t0.isoformat() for row in seen)
    assert all(float(row["area_m2"]) > 0 for row in rows)
    gpkg = client.get("/api/v1/coverage/export", params={"format": "gpkg", "at": at}, headers=auth)
    path = Path(str(tmp_path)) / "c.gpkg"
    path.write_bytes(gpkg.content)
    assert len(gpd.read_file(path)) == len(rows)
    geo = client.get(
        "/api/v1/coverage/export", params={"format": "geojson", "at": at}, headers=auth
    ).json()
    assert len(geo["features"]) == len(rows)


def test_sorties_and_rapid_response(client: TestClient, engine: Engine) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from missions.flows.plan import plan_day

    start = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    plan_day(engine, start=start, hours=2.0, tz=ZoneInfo("Asia/Shanghai"))
    admin = token(client, "admin")
    sorties = client.get("/api/v1/sorties", headers=admin).json()
    assert sorties["features"]
    assert sorties["features"][0]["properties"]["nest_id"] == "N01"
    # an hour before the schedule starts the only nest is idle and charged
    body = {"lon": 113.315, "lat": 22.915, "at": (start - timedelta(hours=1)).isoformat()}
    answer = client.post("/api/v1/respond", json=body, headers=admin).json()
    assert answer["best"]["nest_id"] == "N01"
    assert 0 < answer["best"]["eta_s"] < 300
    assert answer["path"]["type"] == "LineString"
    assert answer["path"]["coordinates"][0] == pytest.approx([113.31, 22.91], abs=1e-6)
    officer = token(client, "officer")
    assert_problem(client.post("/api/v1/respond", json=body, headers=officer), 403, "dispatcher")
