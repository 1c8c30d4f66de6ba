"""GET /api/v1/evidence/{sha256}: crops of the clue → ticket pipeline, scoped like tickets."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import create_user
from api.clues import ClueConfig, Detection, ingest_detections
from api.evidence import crop_file
from api.http.app import create_app
from api.tickets.flows import TicketConfig, promote_clues
from missions.settings import Settings

from ..clues.conftest import feature

PASSWORD = "a long enough password"
AT = "2026-11-23T10:00:00+08:00"


@dataclass(frozen=True)
class World:
    client: TestClient
    data_dir: Path
    west: str  # crop of the ticket in J-W
    east: str  # crop of the ticket in J-E
    no_ticket: str  # crop of a clue below the ticket threshold


def detection(dx_m: float, score: float, frame: Path, box: tuple[int, int, int, int]) -> Detection:
    feat = feature("construction_waste", AT, dx_m, 0.0, score=score, source=f"frame-{dx_m}")
    det = Detection.from_geojson_feature(feat, 0)
    return Detection(
        det.detection_class, det.score, det.source, det.observed_at, det.ground,
        pixel_box=box, frame_path=str(frame),
    )  # fmt: skip


@pytest.fixture
def world(district: Engine, tmp_path: Path) -> Iterator[World]:
    rng = np.random.default_rng(3)
    frame = tmp_path / "frame.jpg"
    Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(frame)
    data_dir = tmp_path / "data"
    config = ClueConfig(evidence_dir=data_dir / "evidence", baseline_on_first_observation=False)
    dets = [
        detection(-500.0, 0.8, frame, (40, 40, 120, 120)),
        detection(500.0, 0.8, frame, (300, 200, 380, 260)),
        detection(300.0, 0.3, frame, (500, 300, 560, 400)),
    ]
    ingest_detections(district, detections=dets, config=config)
    promote_clues(district, config=TicketConfig())
    for name, role, jur in (
        ("officer-w", Role.OFFICER, ["J-W"]),
        ("officer-e", Role.OFFICER, ["J-E"]),
        ("dispatcher", Role.DISPATCHER, []),
        ("planner", Role.PLANNER, []),
    ):
        create_user(
            district, username=name, password=PASSWORD, role=role, jurisdictions=jur, actor="t"
        )
    url = district.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, data_dir=data_dir, dev_mode=True))
    with TestClient(app) as client:
        crops = {}
        tickets = client.get("/api/v1/tickets", headers=auth(client, "dispatcher")).json()
        for f in tickets["features"]:
            crops[f["properties"]["jurisdiction"]] = f["properties"]["evidence"][0]["crop_sha256"]
        stored = {p.stem for p in (data_dir / "evidence").glob("*/*.jpg")}
        (no_ticket,) = stored - set(crops.values())
        yield World(client, data_dir, crops["J-W"], crops["J-E"], no_ticket)
    app.state.engine.dispose()


def auth(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_an_officer_gets_the_crop_of_a_ticket_in_their_jurisdiction(world: World) -> None:
    headers = auth(world.client, "officer-w")
    r = world.client.get(f"/api/v1/evidence/{world.west}", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(r.content).hexdigest() == world.west  # the bytes are what was cited
    assert r.headers["etag"] == f'"{world.west}"'  # strong: no W/ prefix
    assert "immutable" in r.headers["cache-control"]
    assert "private" in r.headers["cache-control"]
    again = world.client.get(
        f"/api/v1/evidence/{world.west}", headers={**headers, "If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_an_officer_cannot_get_crops_outside_their_jurisdictions(world: World) -> None:
    headers = auth(world.client, "officer-w")
    for sha in (world.east, world.no_ticket):
        r = world.client.get(f"/api/v1/evidence/{sha}", headers=headers)
        assert r.status_code == 404  # as if it did not exist, like tickets of other jurisdictions
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "crop_sha256" in r.json()["detail"]  # says where a valid hash comes from
    east = world.client.get(
        f"/api/v1/evidence/{world.east}", headers=auth(world.client, "officer-e")
    )
    assert east.status_code == 200


@pytest.mark.parametrize("user", ["dispatcher", "planner"])
def test_dispatchers_and_planners_get_every_known_crop(world: World, user: str) -> None:
    headers = auth(world.client, user)
    for sha in (world.west, world.east, world.no_ticket):
        assert world.client.get(f"/api/v1/evidence/{sha}", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("sha", "status"),
    [
        ("ABC", 422),
        ("A" * 64, 422),  # upper case is not how hashes are cited
        ("g" * 64, 422),
        ("0" * 63, 422),
        ("..%2F..%2Fetc%2Fpasswd", 404),  # decoded slashes: no route takes it
        ("../../etc/passwd", 404),  # normalised away before routing: no such route
        ("..%5C..%5Cetc%5Cpasswd", 422),
        ("0" * 64, 404),  # well-formed but unknown
    ],
)
def test_anything_but_a_known_hash_is_a_problem(world: World, sha: str, status: int) -> None:
    r = world.client.get(f"/api/v1/evidence/{sha}", headers=auth(world.client, "dispatcher"))
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")


def test_evidence_needs_a_login(world: World) -> None:
    r = world.client.get(f"/api/v1/evidence/{world.west}")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_recorded_crop_whose_file_is_gone_says_so(world: World) -> None:
    crop_file(world.data_dir, world.west).unlink()
    r = world.client.get(f"/api/v1/evidence/{world.west}", headers=auth(world.client, "dispatcher"))
    assert r.status_code == 404
    assert "restore" in r.json()["detail"]


def test_crop_file_accepts_only_a_lowercase_hex_sha256(tmp_path: Path) -> None:
    sha = "ab" * 32
    assert crop_file(tmp_path, sha) == tmp_path / "evidence" / "ab" / f"{sha}.jpg"
    for bad in ("../" + "a" * 61, "A" * 64, "a" * 65, ""):
        with pytest.raises(ValueError, match="SHA-256"):
            crop_file(tmp_path, bad)
