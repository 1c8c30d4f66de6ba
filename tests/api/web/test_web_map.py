"""The web map in a real headless Chromium (Debian's), driven by Playwright, against the served app.

Screenshots go to test-artifacts/web/. Skipped, with the reason printed, only when Chromium or
Playwright is missing (scripts/setup.sh --dev installs both).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pytest
import shapely
import uvicorn
from PIL import Image, ImageDraw
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import create_user
from api.clues import ClueConfig, Detection, DetectionClass, ingest_detections
from api.http.app import create_app
from api.tickets.categories import load_category_table
from api.tickets.flows import TicketConfig, promote_clues
from api.tickets.locate import Location
from api.tickets.models import TicketSource
from api.tickets.service import TicketSpec, create_tickets, transition
from api.tickets.workflow import TicketStatus
from missions.fleet import DroneProfile, Nest
from missions.flows.grid import build_and_store
from missions.flows.plan import plan_day
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.settings import Settings
from missions.storage import make_engine, save_layer, save_nests, session_scope, upgrade
from patrol.storage import FlightRecord, FrameRecord, record_flight

playwright_sync = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"
PASSWORD = "a long enough password"
TZ = ZoneInfo("Asia/Shanghai")
DISTRICT = shapely.box(113.30, 22.90, 113.32, 22.915)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(url: str, data_dir: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    halves = [
        shapely.box(113.30, 22.90, 113.31, 22.915),
        shapely.box(113.31, 22.90, 113.32, 22.915),
    ]
    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["D"]}, geometry=[DISTRICT], crs=WGS84),
        source="t",
    )
    save_layer(
        engine,
        LayerKind.JURISDICTIONS,
        gpd.GeoDataFrame(
            {
                "code": ["J1", "J2"],
                "name": ["West", "East"],
                "level": ["street"] * 2,
                "dispatch_contact": [None] * 2,
                "illustrative": [True] * 2,
            },
            geometry=halves,
            crs=WGS84,
        ),
        source="t",
    )
    save_layer(
        engine,
        LayerKind.NOFLY,
        gpd.GeoDataFrame(
            {
                "name": ["Heliport"],
                "floor_m": [None],
                "ceiling_m": [None],
                "active_from": [None],
                "active_to": [None],
                "daily_start": [None],
                "daily_end": [None],
            },
            geometry=[shapely.Point(113.315, 22.91).buffer(0.002)],
            crs=WGS84,
        ),
        source="t",
    )
    build_and_store(engine, cell_size_m=100)
    save_nests(engine, [Nest("N01", 113.305, 22.905, 5.0), Nest("N02", 113.317, 22.904, 5.0)])
    now = datetime.now(UTC)
    frames = [
        FrameRecord(
            f"f{i}",
            now - timedelta(hours=h),
            shapely.box(113.301 + i * 0.004, 22.901, 113.305 + i * 0.004, 22.909),
        )
        for i, h in enumerate((1, 5, 30))
    ]
    record_flight(
        engine, FlightRecord("F1", now - timedelta(hours=30), now - timedelta(hours=1)), frames
    )
    for name, role, jur in (
        ("planner", Role.PLANNER, []),
        ("dispatcher", Role.DISPATCHER, []),
        ("officer", Role.OFFICER, ["J1"]),
    ):
        create_user(
            engine, username=name, password=PASSWORD, role=role, jurisdictions=jur, actor="test"
        )
    seed_plan_and_tickets(engine, now)
    seed_clue_tickets(engine, now, data_dir)
    engine.dispose()


def seed_plan_and_tickets(engine: Engine, now: datetime) -> None:
    """A 4 h daytime schedule starting 1–19 h from now (nests idle now, the bars within the
    dispatcher's 24 h timeline), a ticket per jurisdiction."""
    local = now.astimezone(TZ)
    start = (local + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    if not 7 <= start.hour < 15:  # daytime (07:00–19:00) for all 4 h, else the next 08:00
        start = start.replace(hour=8)
        if start <= local:
            start += timedelta(days=1)
    plan_day(engine, start=start, hours=4.0, tz=TZ)
    category = load_category_table().get("general_report")
    specs = [
        TicketSpec(
            source=TicketSource.OPEN311,
            category=category,
            lon=lon,
            lat=22.905,
            location=Location(None, jur),
            description=f"rubble in {jur}",
        )
        for lon, jur in ((113.303, "J1"), (113.317, "J2"))
    ]
    with session_scope(engine) as session:
        for row in create_tickets(session, specs=specs, actor="test", now=now):
            transition(session, ticket_id=row.id, to=TicketStatus.FILED, actor="test", now=now)
            transition(session, ticket_id=row.id, to=TicketStatus.DISPATCHED, actor="test", now=now)


def seed_clue_tickets(engine: Engine, now: datetime, data_dir: Path) -> None:
    """Dumped waste seen in one photo in each jurisdiction: clues with evidence crops → tickets."""
    rng = np.random.default_rng(5)
    photo = Image.fromarray(rng.integers(90, 140, (480, 640, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(photo)
    for x0, y0 in ((100, 100), (400, 260)):
        draw.rectangle((x0, y0, x0 + 80, y0 + 60), fill=(200, 120, 40))
        draw.ellipse((x0 + 20, y0 + 10, x0 + 50, y0 + 40), fill=(240, 240, 230))
    frame = data_dir / "frames" / "DJI_0001.JPG"
    frame.parent.mkdir(parents=True, exist_ok=True)
    photo.save(frame)
    detections = [
        Detection(
            DetectionClass.CONSTRUCTION_WASTE,
            0.9,
            f"DJI_0001.JPG#{jur}",
            now - timedelta(hours=2),
            shapely.Point(lon, 22.903).buffer(0.00004),
            pixel_box=(x0, y0, x0 + 80, y0 + 60),
            frame_path=str(frame),
        )
        for lon, jur, (x0, y0) in ((113.304, "J1", (100, 100)), (113.316, "J2", (400, 260)))
    ]
    ingest_detections(
        engine,
        detections=detections,
        config=ClueConfig(evidence_dir=data_dir / "evidence", baseline_on_first_observation=False),
    )
    promote_clues(engine, config=TicketConfig(), now=now)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{tmp / 'web.db'}"
    seed(url, tmp / "data")
    port = free_port()
    app = create_app(Settings(database_url=url, data_dir=tmp / "data", dev_mode=True))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start within 15 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def logged_in(browser: object, base_url: str, user: str) -> object:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.goto(base_url + "/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    return page


def test_login_rejects_a_wrong_password(browser: object, base_url: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(base_url + "/")
    assert page.url.endswith("/app/")
    page.fill("input[name=username]", "planner")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('login-error').textContent.length > 0")
    assert "wrong user name or password" in page.inner_text("#login-error")
    page.screenshot(path=str(ARTIFACTS / "login-error.png"))
    page.close()


def test_planner_sees_coverage_cells_and_tables(browser: object, base_url: str) -> None:
    page = logged_in(browser, base_url, "planner")
    assert "planner (planner)" in page.inner_text("#whoami")
    drawn = page.evaluate("state.layers.coverage.getLayers().length")
    assert drawn > 20
    colours = page.evaluate(
        "new Set(state.layers.coverage.getLayers().map(l => l.options.color)).size"
    )
    assert colours >= 3  # seen 1 h, 5 h, 30 h ago and never
    assert "cells in view" in page.inner_text("#status")
    page.screenshot(path=str(ARTIFACTS / "planner-map.png"))
    page.click("#tabs button[data-view=coverage]")
    page.wait_for_selector("#coverage-class tr:nth-child(2)")
    assert "standard" in page.inner_text("#coverage-class")
    assert "J1" in page.inner_text("#coverage-jurisdiction")
    page.screenshot(path=str(ARTIFACTS / "planner-coverage.png"))
    page.close()


def test_dispatcher_sends_the_nearest_drone(browser: object, base_url: str) -> None:
    page = logged_in(browser, base_url, "dispatcher")
    assert page.evaluate("state.layers.nests.getLayers().length") == 2
    page.click("#tabs button[data-view=dispatch]")
    page.wait_for_selector("#timeline .bar")
    assert page.locator("#timeline .timeline-row").count() == 2
    page.wait_for_selector("#nests-table tr:nth-child(3)")
    profile = DroneProfile()
    reach = round((300 - profile.launch_overhead_s) * profile.max_speed_mps)
    assert str(reach) in page.inner_text("#nests-table")
    # click the map near N01: the answer names a nest and an ETA, and the path is drawn
    box = page.locator("#map").bounding_box()
    point = page.evaluate("state.map.latLngToContainerPoint([22.906, 113.306])")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("#eta", timeout=20_000)
    text = page.inner_text("#respond-result")
    assert "N01 arrives in" in text
    eta = int(page.inner_text("#eta").split()[0])
    assert 0 < eta < 300
    assert page.evaluate("state.layers.response.getLayers().length") == 1
    page.screenshot(path=str(ARTIFACTS / "dispatcher-respond.png"))
    page.close()


def test_officer_handles_a_ticket_in_their_jurisdiction(browser: object, base_url: str) -> None:
    page = logged_in(browser, base_url, "officer")
    page.click("#tabs button[data-view=tickets]")
    page.wait_for_selector(".ticket")
    tickets = page.locator(".ticket")
    assert tickets.count() == 2  # only J1's: the reported rubble and the dumped waste clue
    assert "J2" not in page.inner_text("#tickets-list")
    assert "rubble in J1" in tickets.first.inner_text()
    assert "dispatched" in tickets.first.inner_text()
    tickets.first.locator("button[data-act=handle]").click()
    page.wait_for_function("document.querySelector('.ticket .status').textContent === 'handled'")
    page.screenshot(path=str(ARTIFACTS / "officer-tickets.png"))
    page.close()


def test_officer_can_log_in_and_out(browser: object, base_url: str) -> None:
    page = logged_in(browser, base_url, "officer")
    assert "officer (officer)" in page.inner_text("#whoami")
    page.click("#logout")
    assert page.is_visible("#login-form")
    page.close()


LOADED_THUMB = "img.evidence-thumb[data-state=loaded]"


def test_officer_sees_evidence_photos_in_the_list_and_the_map(
    browser: object, base_url: str
) -> None:
    page = logged_in(browser, base_url, "officer")
    # the map shows J1's open tickets only; a ticket's pop-up fetches its evidence crop
    assert page.evaluate("state.layers.tickets.getLayers().length") == 2
    page.evaluate(
        "() => { state.layers.tickets.getLayers().find(m => "
        "m.getPopup().getContent().includes('evidence-thumb')).openPopup(); }"
    )
    page.wait_for_selector(f".leaflet-popup {LOADED_THUMB}", timeout=20_000)
    size = page.evaluate(
        f"(() => {{ const i = document.querySelector('.leaflet-popup {LOADED_THUMB}'); "
        "return [i.naturalWidth, i.naturalHeight, i.src.slice(0, 5)]; })()"
    )
    assert size[0] > 80  # the crop with its margin, decoded by the browser
    assert size[1] > 60
    assert size[2] == "blob:"  # fetched with the bearer token, not a bare <img src>
    page.wait_for_function(
        "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    page.screenshot(path=str(ARTIFACTS / "officer-map-evidence.png"))
    page.click("#tabs button[data-view=tickets]")
    page.wait_for_selector(f".ticket {LOADED_THUMB}", timeout=20_000)
    assert page.locator(f".ticket {LOADED_THUMB}").count() == 1
    assert page.locator(".ticket img.evidence-thumb[data-state=failed]").count() == 0
    page.locator(f".ticket {LOADED_THUMB}").first.click()
    assert page.is_visible("#evidence-viewer img")
    page.screenshot(path=str(ARTIFACTS / "officer-ticket-evidence.png"))
    page.close()


def test_dispatcher_opens_a_ticket_without_sending_a_drone(browser: object, base_url: str) -> None:
    page = logged_in(browser, base_url, "dispatcher")
    assert page.evaluate("state.layers.tickets.getLayers().length") == 4  # J1's and J2's
    marker = page.evaluate(
        "(() => { const m = state.layers.tickets.getLayers().find(m => "
        "m.getPopup().getContent().includes('evidence-thumb')); "
        "const p = state.map.latLngToContainerPoint(m.getLatLng()); return [p.x, p.y]; })()"
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + marker[0], box["y"] + marker[1])
    page.wait_for_selector(f".leaflet-popup {LOADED_THUMB}", timeout=20_000)
    assert page.inner_text("#respond-result") == ""  # the click opened the ticket, no dispatch
    page.close()


def test_dispatcher_opens_a_clue_with_its_rules_and_evidence(
    browser: object, base_url: str
) -> None:
    page = logged_in(browser, base_url, "dispatcher")
    assert page.is_visible("label:has(input[data-layer=clues])")
    assert page.evaluate("state.layers.clues.getLayers().length") == 2  # one per jurisdiction
    props = page.evaluate(
        "(() => { const m = state.layers.clues.getLayers()[0]; m.openPopup(); "
        "return [m.clueId, m.options.color]; })()"
    )
    page.wait_for_selector(f".leaflet-popup {LOADED_THUMB}", timeout=20_000)
    text = page.inner_text(".leaflet-popup")
    assert f"Clue #{props[0]}" in text
    assert "construction_waste" in text
    assert "active" in text  # both clues became tickets
    assert props[1] == "#dc2626"  # coloured by that status
    assert "confidence" in text
    assert "1 sighting" in text
    size = page.evaluate(
        f"(() => {{ const i = document.querySelector('.leaflet-popup {LOADED_THUMB}'); "
        "return [i.naturalWidth, i.naturalHeight, i.src.slice(0, 5)]; })()"
    )
    assert size[0] > 80  # the crop with its margin, decoded by the browser
    assert size[1] > 60
    assert size[2] == "blob:"  # fetched with the bearer token
    page.wait_for_function(
        "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    page.screenshot(path=str(ARTIFACTS / "dispatcher-clue-evidence.png"))
    page.close()


def test_officer_has_no_clue_layer(browser: object, base_url: str) -> None:
    page = logged_in(browser, base_url, "officer")
    assert page.is_hidden("label:has(input[data-layer=clues])")
    assert page.evaluate("state.layers.clues.getLayers().length") == 0
    assert not page.evaluate("state.map.hasLayer(state.layers.clues)")
    assert "clues" not in page.inner_text("#status")  # no request answered 403
    page.close()
