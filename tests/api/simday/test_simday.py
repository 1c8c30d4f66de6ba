"""A simulated day end to end on a tiny district: plan, fly over MAVLink, detect, clue, score.

Small on purpose (2 km × 1.6 km, two nests, three hours, coarse render): the numbers say nothing
about quality; the test checks the plumbing and the report's honesty rules.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli.sim import simulate
from api.simday.faults import NO_FAULTS
from api.simday.flow import SimConfig, run_day
from api.simday.report import report_dict
from missions.fleet import Nest
from missions.flows.grid import build_and_store
from missions.geo.layers import LayerKind
from missions.settings import load_settings
from missions.storage import make_engine, save_layer, save_nests, upgrade
from patrol.errors import PatrolError
from patrol.sim.dynamics import Dynamics
from patrol.sim.world import Fidelity
from patrol.storage.models import CellSighting, Flight, Frame

LON0, LAT0 = 113.38, 22.95
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 16:00 local: day, then dusk
FIDELITY = Fidelity(render_gsd_m=0.2, blocks={"core": 3, "standard": 2, "low": 0}, permit_blocks=1)


def _district(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    wgs = "EPSG:4326"
    boundary = shapely.box(LON0, LAT0, LON0 + 0.02, LAT0 + 0.016)
    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["t"]}, geometry=[boundary], crs=wgs),
        source="t",
    )
    core = gpd.GeoDataFrame(
        {"name": ["core"], "priority": ["core"]},
        geometry=[shapely.box(LON0, LAT0, LON0 + 0.008, LAT0 + 0.006)],
        crs=wgs,
    )
    save_layer(engine, LayerKind.PRIORITY, core, source="t")
    permit = gpd.GeoDataFrame(
        {
            "permit_no": ["P-1"],
            "kind": ["construction"],
            "valid_from": [datetime(2026, 1, 1, tzinfo=UTC)],
            "valid_to": [datetime(2027, 1, 1, tzinfo=UTC)],
        },
        geometry=[shapely.box(LON0 + 0.012, LAT0 + 0.01, LON0 + 0.0135, LAT0 + 0.011)],
        crs=wgs,
    )
    save_layer(engine, LayerKind.PERMITS, permit, source="t")
    build_and_store(engine, cell_size_m=100.0)
    save_nests(
        engine,
        [Nest("N1", LON0 + 0.004, LAT0 + 0.004), Nest("N2", LON0 + 0.016, LAT0 + 0.012)],
    )
    engine.dispose()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, str]:
    root = tmp_path_factory.mktemp("simday")
    url = f"sqlite:///{root / 'sim.db'}"
    _district(url)
    settings = load_settings(database_url=url, data_dir=root / "data")
    busy = Dynamics(new_structures_per_day=4.0, preexisting_structures=1.0, dumping_per_day=4.0)
    config = SimConfig(
        start=START, hours=3.0, seed=3, fidelity=FIDELITY, dynamics=busy, rapid_requests=2
    )
    return run_day(settings, config), root, url


def test_the_day_flies_records_and_detects(day: tuple[object, Path, str]) -> None:
    result, root, url = day
    report = report_dict(result)  # type: ignore[arg-type]
    flights = report["flights"]
    assert flights["flights"] >= 4
    assert flights["outcomes"].get("completed", 0) >= 1
    engine = make_engine(url)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Flight)) == flights["flights"]
        frames = s.scalar(select(func.count()).select_from(Frame))
        sightings = s.scalar(select(func.count()).select_from(CellSighting))
    engine.dispose()
    cost = report["cost"]
    assert frames == cost["frames_captured"] > 100
    assert sightings
    assert sightings > 0
    assert cost["views_rendered_and_detected"] > 0
    assert list((root / "data" / "imagery").rglob("*.jpg"))  # stored by content hash
    assert report["rapid_response"]["answered"] + len(report["rapid_response"]["refused"]) == 2


def test_the_report_states_fidelity_targets_and_ground_truth(day: tuple[object, Path, str]) -> None:
    result, _, _ = day
    report = report_dict(result)  # type: ignore[arg-type]
    fid = report["fidelity"]
    assert fid["render_gsd_m"] == 0.2
    assert fid["blocks"] == 6
    assert "independent of content" in fid["block_selection"]
    assert set(report["targets"]) == {"core_recall_within_revisit", "false_clues_per_100km2_day"}
    for row in report["violations_by_priority"]:
        assert row["violations"] >= 1
        for key in ("recall", "imaged_while_active"):
            assert row[key] is None or 0.0 <= row[key] <= 1.0
    assert report["violations_by_priority"][-1]["group"] == "all"
    assert report["timings_s"]["fly"] > 0
    assert report["cost"]["detect_s_per_megapixel"] > 0
    # every violation of the day is listed for review, consistent with the tables
    rows = report["violations"]
    assert len(rows) == report["violations_by_priority"][-1]["violations"] + sum(
        r["legal"] for r in rows
    )
    found = [r for r in rows if r["found_at"] is not None and not r["legal"]]
    recall = report["violations_by_priority"][-1]["recall"]
    assert len(found) / sum(not r["legal"] for r in rows) == pytest.approx(recall, abs=1e-3)
    for r in found:
        first, found_at = (datetime.fromisoformat(r[k]) for k in ("first_active", "found_at"))
        assert first <= found_at
        assert r["hours_to_found"] >= 0
    assert len(report["false_clues"]) == report["clues"]["false_active_clues"]


def test_cli_writes_report_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    _district(url)
    settings = load_settings(database_url=url, data_dir=tmp_path / "data")
    out = tmp_path / "out"
    simulate(
        settings,
        out=out,
        hours=1.0,
        start=START,
        seed=1,
        fidelity=Fidelity(render_gsd_m=0.25, blocks={"core": 1, "standard": 1, "low": 0}),
        rapid=0,
    )
    saved = json.loads((out / "report.json").read_text())
    assert saved["hours"] == 1.0
    assert saved["flights"]["flights"] >= 1
    assert NO_FAULTS.describe() == {"offline": [], "wind": [], "battery_drain": [], "link_loss": []}


def test_a_second_day_on_the_same_database_is_refused_not_mixed(
    day: tuple[object, Path, str],
) -> None:
    """The first day's clues would merge with the second's and be scored with them."""
    _, root, url = day
    settings = load_settings(database_url=url, data_dir=root / "data")
    again = SimConfig(start=START, hours=1.0, seed=4, fidelity=FIDELITY, rapid_requests=0)
    with pytest.raises(PatrolError, match="fresh database"):
        run_day(settings, again)
