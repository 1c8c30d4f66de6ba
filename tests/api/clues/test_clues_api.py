"""GET /api/v1/clues and /api/v1/clues/{id}: GeoJSON points with rules, ticket and evidence.

One world per module and backend (the requests only read): a clue seen eight times, each time
with its own crop; a clue seen once with a crop; a clue with no crop. Statuses are set after
ingestion so that the filters meet each one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, select, update

from api.auth.models import Role
from api.auth.service import create_user
from api.clues import ClueConfig, ClueRow, Detection, ingest_detections
from api.clues.views import MAX_EVIDENCE
from api.http.app import create_app
from api.http.pagination import encode_cursor
from api.tickets.flows import TicketConfig, promote_clues
from missions.settings import Settings
from missions.storage.base import Base

from ..tickets.conftest import load_small_district
from .conftest import feature

PASSWORD = "a long enough password"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Guangzhou
USERS = {"admin": Role.ADMIN, "dispatcher": Role.DISPATCHER, "planner": Role.PLANNER}


@dataclass(frozen=True)
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]  # user → auth header
    waste: int  # eight sightings with crops, active, has a ticket
    structure: int  # one sighting with a crop, baseline
    truck: int  # one sighting without a crop, suppressed

    def get(self, path: str, user: str = "dispatcher", **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers.get(user, {}))


def detection(
    cls: str, dx_m: float, at: datetime, *, frame: Path | None, box: tuple[int, int, int, int]
) -> Detection:
    det = Detection.from_geojson_feature(
        feature(cls, at.isoformat(), dx_m, 0.0, score=0.8, source=f"{cls}-{at.isoformat()}"), 0
    )
    if frame is None:
        return det
    return Detection(
        det.detection_class, det.score, det.source, det.observed_at, det.ground,
        pixel_box=box, frame_path=str(frame),
    )  # fmt: skip


def seed(engine: Engine, tmp: Path) -> tuple[int, int, int]:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    load_small_district(engine)
    frame = tmp / "frame.jpg"
    rng = np.random.default_rng(11)
    Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(frame)
    dets = [
        detection("construction_waste", -500.0, T0 + timedelta(hours=k), frame=frame,
                  box=(20 + 40 * k, 20, 80 + 40 * k, 80))
        for k in range(8)
    ] + [
        detection("illegal_structure", 500.0, T0 + timedelta(days=1), frame=frame,
                  box=(300, 200, 380, 260)),
        detection("muck_truck", 300.0, T0 + timedelta(days=2), frame=None, box=(0, 0, 1, 1)),
    ]  # fmt: skip
    # the baseline policy off: the waste is a new dumping (active, with its category) at once
    config = ClueConfig(evidence_dir=tmp / "data" / "evidence", baseline_on_first_observation=False)
    for det in dets:  # one flight each: sightings merge into clues in time order
        ingest_detections(engine, detections=[det], config=config)
    with engine.begin() as conn:
        ids = {cls: cid for cid, cls in conn.execute(select(ClueRow.id, ClueRow.detection_class))}
        statuses = {"construction_waste": "active", "illegal_structure": "baseline"}
        for cls, cid in ids.items():
            status = statuses.get(cls, "suppressed")
            conn.execute(update(ClueRow).where(ClueRow.id == cid).values(status=status))
    promote_clues(engine, config=TicketConfig(), now=T0 + timedelta(days=3))  # the active one
    for name, role in {**USERS, "officer": Role.OFFICER}.items():
        jur = ["J-W", "J-E"] if role is Role.OFFICER else []
        create_user(
            engine, username=name, password=PASSWORD, role=role, jurisdictions=jur, actor="t"
        )
    return ids["construction_waste"], ids["illegal_structure"], ids["muck_truck"]


@pytest.fixture(scope="module")
def world(module_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("clues-api")
    waste, structure, truck = seed(module_engine, tmp)
    url = module_engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, data_dir=tmp / "data", dev_mode=True))
    with TestClient(app) as client:
        headers = {}
        for user in [*USERS, "officer"]:
            r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            headers[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield World(client, headers, waste, structure, truck)
    app.state.engine.dispose()


def ids(body: dict[str, Any]) -> list[int]:
    return [f["id"] for f in body["features"]]


def test_the_list_is_geojson_points_with_rules_tickets_and_evidence(world: World) -> None:
    r = world.get("/api/v1/clues")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["next_cursor"] is None
    assert ids(body) == sorted([world.waste, world.structure, world.truck])
    by_id = {f["id"]: f for f in body["features"]}
    for f in body["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert 113.36 < lon < 113.40
        assert 22.93 < lat < 22.95  # WGS-84, longitude first
        props = f["properties"]
        assert props["id"] == f["id"]
        for rule in props["rules"]:
            assert set(rule) == {"rule", "reason"}
            assert rule["reason"]
    waste = by_id[world.waste]["properties"]
    assert waste["detection_class"] == "construction_waste"
    assert waste["status"] == "active"
    assert waste["sighting_count"] == 8
    assert waste["first_seen_at"].startswith("2026-11-23T02:00")
    assert waste["last_seen_at"].startswith("2026-11-23T09:00")
    assert 0 < waste["confidence"] <= 1
    tickets = world.get("/api/v1/tickets").json()["features"]
    (ticket,) = [t for t in tickets if t["properties"]["clue_id"] == world.waste]
    assert waste["ticket_id"] == ticket["id"]
    assert by_id[world.truck]["properties"]["ticket_id"] is None
    assert by_id[world.truck]["properties"]["rules"][0]["rule"] == "daytime_activity"  # why


def test_evidence_is_the_newest_crops_and_each_can_be_fetched(world: World) -> None:
    by_id = {f["id"]: f["properties"] for f in world.get("/api/v1/clues").json()["features"]}
    evidence = by_id[world.waste]["evidence"]
    assert len(evidence) == MAX_EVIDENCE  # of eight sightings with crops
    times = [datetime.fromisoformat(e["observed_at"]) for e in evidence]
    assert times == sorted(times, reverse=True)
    assert times[0] == T0 + timedelta(hours=7)
    assert len({e["sha256"] for e in evidence}) == MAX_EVIDENCE
    assert all(e["score"] == pytest.approx(0.8) for e in evidence)
    assert len(by_id[world.structure]["evidence"]) == 1
    assert by_id[world.truck]["evidence"] == []  # no crop, no evidence
    for e in evidence[:2]:
        crop = world.get(f"/api/v1/evidence/{e['sha256']}")
        assert crop.status_code == 200
        assert hashlib.sha256(crop.content).hexdigest() == e["sha256"]


def test_one_clue_has_every_sighting(world: World) -> None:
    r = world.get(f"/api/v1/clues/{world.waste}", user="planner")
    assert r.status_code == 200
    clue = r.json()
    assert clue["id"] == world.waste
    assert clue["geometry"]["type"] == "Point"
    sightings = clue["properties"]["sightings"]
    assert len(sightings) == 8
    times = [s["observed_at"] for s in sightings]
    assert [datetime.fromisoformat(t) for t in times] == [T0 + timedelta(hours=k) for k in range(8)]
    assert {s["crop_sha256"] for s in sightings[-MAX_EVIDENCE:]} == {
        e["sha256"] for e in clue["properties"]["evidence"]
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, ["waste"]),
        ({"status": ["baseline", "suppressed"]}, ["structure", "truck"]),
        ({"class": "muck_truck"}, ["truck"]),
        ({"class": ["muck_truck", "construction_waste"]}, ["waste", "truck"]),
        ({"class": "construction_machinery"}, []),
        ({"status": "active", "class": "muck_truck"}, []),
        ({"bbox": "113.37,22.93,113.38,22.95"}, ["waste"]),  # the west half
        ({"bbox": "113.38,22.93,113.39,22.95"}, ["structure", "truck"]),
        ({"since": "2026-11-23T18:00:00+08:00"}, ["structure", "truck"]),  # 10:00 UTC
        ({"until": "2026-11-24T02:00:00Z"}, ["waste", "structure"]),  # inclusive
        ({"since": "2026-11-23T17:00:00+08:00", "until": "2026-11-23T17:00:00+08:00"}, ["waste"]),
    ],
)
def test_filters(world: World, params: dict[str, Any], expected: list[str]) -> None:
    r = world.get("/api/v1/clues", **params)
    assert r.status_code == 200, r.text
    assert set(ids(r.json())) == {getattr(world, name) for name in expected}


def test_pages_follow_the_cursor_to_the_end(world: World) -> None:
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        body = world.get("/api/v1/clues", **params).json()
        seen += ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([world.waste, world.structure, world.truck])
    assert cursor is None  # the fourth page is empty and ends the walk
    two = world.get("/api/v1/clues", limit=2, status="suppressed").json()
    assert ids(two) == [world.truck]
    assert two["next_cursor"] is None


@pytest.mark.parametrize("user", ["admin", "dispatcher", "planner"])
def test_staff_read_clues(world: World, user: str) -> None:
    assert world.get("/api/v1/clues", user=user).status_code == 200
    assert world.get(f"/api/v1/clues/{world.truck}", user=user).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/clues", "/api/v1/clues/1"])
def test_officers_are_sent_to_their_tickets(world: World, path: str) -> None:
    r = world.get(path, user="officer")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert "/api/v1/tickets" in detail
    assert "jurisdictions" in detail
    anonymous = world.get(path, user="nobody")
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"bbox": "113.3,22.9,113.4"}, 400, "4 numbers"),
        ({"bbox": "a,b,c,d"}, 400, "four numbers"),
        ({"bbox": "22.9,113.3,23.0,113.4"}, 400, "longitude first"),
        ({"cursor": "not a cursor!"}, 400, "restart"),
        ({"cursor": encode_cursor("abc")}, 400, "restart"),
        ({"cursor": encode_cursor("9" * 40)}, 400, "restart"),
        ({"cursor": encode_cursor(str(2**63))}, 400, "restart"),  # no 64-bit id
        ({"cursor": encode_cursor("١٢")}, 400, "restart"),  # Arabic-Indic digits
        ({"since": "9999-12-31T23:59:59-23:00"}, 422, "out of range"),
        ({"since": "2026-11-23T10:00:00"}, 422, "UTC offset"),
        ({"since": "2026-11-24T00:00:00Z", "until": "2026-11-23T00:00:00Z"}, 422, "swap"),
        ({"since": "yesterday"}, 422, "since"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 1001}, 422, "limit"),
        ({"status": "open"}, 422, "status"),
        ({"class": "cat"}, 422, "class"),
    ],
)
def test_bad_queries_are_problems_that_say_what_to_fix(
    world: World, params: dict[str, Any], status: int, words: str
) -> None:
    r = world.get("/api/v1/clues", **params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.text


@pytest.mark.parametrize(("clue_id", "status"), [("999999", 404), ("0", 422), ("x", 422)])
def test_an_unknown_clue_is_a_problem(world: World, clue_id: str, status: int) -> None:
    r = world.get(f"/api/v1/clues/{clue_id}")
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    if status == 404:
        assert "GET /api/v1/clues" in r.json()["detail"]
