from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from PIL import Image
from sqlalchemy import Engine, select

from api.clues import (
    ClueConfig,
    ClueRow,
    ClueStatus,
    Detection,
    RuleName,
    SightingRow,
    ingest_detections,
)
from api.errors import DetectionInputError
from missions.storage import session_scope

from .conftest import feature, save_permits, square

DAY = "2026-11-23T02:00:00Z"  # 10:00 in Shanghai
NIGHT = "2026-11-23T15:30:00Z"  # 23:30 in Shanghai


def ingest(engine: Engine, *features: dict[str, Any], **kw: Any) -> list[ClueRow]:
    dets = [Detection.from_geojson_feature(f, i) for i, f in enumerate(features)]
    config = kw.pop("config", ClueConfig())
    report = ingest_detections(engine, detections=dets, config=config, **kw)
    with session_scope(engine) as s:
        return [s.get_one(ClueRow, i) for i in report.clue_ids]


def rules(row: ClueRow) -> list[str]:
    return [r["rule"] for r in row.rules]


def test_repeated_sightings_merge_and_keep_the_best_score(
    engine: Engine, around: shapely.Polygon
) -> None:
    observed = [(around, datetime(2026, 11, 1, tzinfo=UTC), "earlier-flight")]
    (first,) = ingest(engine, feature("illegal_structure", DAY, score=0.7), observed=observed)
    assert first.status == ClueStatus.ACTIVE
    assert rules(first) == [RuleName.NEW_STRUCTURE]
    assert first.confidence == pytest.approx(0.7)
    # a later flight: 4 m away, another frame → the same clue, its best score
    (again,) = ingest(engine, feature("illegal_structure", "2026-11-24T02:00:00Z", 4.0, score=0.9))
    assert again.id == first.id
    assert again.sighting_count == 2
    assert again.confidence == pytest.approx(0.9)
    # 60 m away is another object
    (other,) = ingest(engine, feature("illegal_structure", "2026-11-24T02:00:00Z", 60.0))
    assert other.id != first.id


def test_structure_on_the_first_observation_is_a_baseline(engine: Engine) -> None:
    (row,) = ingest(engine, feature("illegal_structure", DAY))
    assert row.status == ClueStatus.BASELINE
    assert "first daylight observation" in row.rules[0]["reason"]
    (row2,) = ingest(
        engine,
        feature("illegal_structure", DAY, 500.0),
        config=ClueConfig(baseline_on_first_observation=False),
    )
    assert row2.status == ClueStatus.ACTIVE


def test_a_place_seen_only_at_night_was_not_seen_clean(engine: Engine) -> None:
    """A dark frame shows no structure: only a daylight frame proves the place was clean."""
    west, east = square(-100.0, -100.0, 200.0), square(900.0, -100.0, 200.0)
    observed = [
        (west, datetime(2026, 11, 22, 16, 0, tzinfo=UTC), "night-flight"),  # 00:00 local
        (east, datetime(2026, 11, 22, 3, 0, tzinfo=UTC), "day-flight"),  # 11:00 local
    ]
    night_only, daylight = ingest(
        engine,
        feature("illegal_structure", DAY),
        feature("illegal_structure", DAY, 1000.0),
        observed=observed,
    )
    assert night_only.status == ClueStatus.BASELINE
    assert rules(night_only) == [RuleName.BASELINE]
    assert daylight.status == ClueStatus.ACTIVE
    assert rules(daylight) == [RuleName.NEW_STRUCTURE]
    assert "in daylight" in daylight.rules[0]["reason"]


def test_a_structure_seen_only_at_night_waits_for_daylight(engine: Engine) -> None:
    """At night the detector takes pools for sheds: a daylight frame must confirm one."""
    place = square(-100.0, -100.0, 200.0)
    clean = [(place, datetime(2026, 11, 22, 3, 0, tzinfo=UTC), "day-flight")]  # 11:00 local
    (night,) = ingest(engine, feature("illegal_structure", NIGHT), observed=clean)
    assert (night.status, rules(night)) == (ClueStatus.UNCONFIRMED, [RuleName.NIGHT_ONLY])
    assert night.category is None
    assert "1 sighting(s)" in night.rules[0]["reason"]
    (day,) = ingest(engine, feature("illegal_structure", "2026-11-24T02:00:00Z", 2.0))
    assert day.id == night.id
    assert (day.status, rules(day)) == (ClueStatus.ACTIVE, [RuleName.NEW_STRUCTURE])
    (off,) = ingest(
        engine,
        feature("illegal_structure", NIGHT, 700.0),
        observed=[(square(600.0, -100.0, 200.0), clean[0][1], "day-flight")],
        config=ClueConfig(confirm_structures_in_daylight=False),
    )
    assert off.status == ClueStatus.ACTIVE


def test_waste_must_be_a_new_dumping_like_a_structure_must_be_new(engine: Engine) -> None:
    """A pile on the first daylight look (or a look-alike always called waste) is a baseline."""
    west, east = square(-100.0, -100.0, 200.0), square(900.0, -100.0, 200.0)
    observed = [
        (west, datetime(2026, 11, 22, 16, 0, tzinfo=UTC), "night-flight"),  # 00:00 local
        (east, datetime(2026, 11, 22, 3, 0, tzinfo=UTC), "day-flight"),  # 11:00 local
    ]
    night_only, daylight, unseen = ingest(
        engine,
        feature("construction_waste", DAY),
        feature("construction_waste", DAY, 1000.0),
        feature("construction_waste", DAY, 2000.0),
        observed=observed,
    )
    assert (night_only.status, rules(night_only)) == (ClueStatus.BASELINE, [RuleName.BASELINE])
    assert "not a new waste pile" in night_only.rules[0]["reason"]
    assert (unseen.status, rules(unseen)) == (ClueStatus.BASELINE, [RuleName.BASELINE])
    assert daylight.status == ClueStatus.ACTIVE
    assert daylight.category == "construction_waste_dumping"
    assert rules(daylight) == [RuleName.NEW_DUMPING]
    assert "waste pile first seen after" in daylight.rules[0]["reason"]
    # the same pile seen again the next day stays what it was: one clue, still a baseline
    (again,) = ingest(engine, feature("construction_waste", "2026-11-24T02:00:00Z", 2.0))
    assert (again.id, again.status) == (night_only.id, ClueStatus.BASELINE)


def test_permits_suppress_structures_and_disposal_sites_suppress_waste(
    engine: Engine, around: shapely.Polygon
) -> None:
    save_permits(
        engine,
        [
            ("P-1", "construction", around, None),
            ("P-2", "disposal_site", square(300.0, -100.0, 200.0), None),
            ("P-3", "construction", square(1000.0, 0.0, 50.0), datetime(2026, 6, 1, tzinfo=UTC)),
        ],
    )
    s, w, expired, loose = ingest(
        engine,
        feature("illegal_structure", DAY),
        feature("construction_waste", DAY, 350.0),
        feature("illegal_structure", DAY, 1010.0),
        feature("construction_waste", DAY, 700.0),
        config=ClueConfig(baseline_on_first_observation=False),
    )
    assert (s.status, rules(s)) == (ClueStatus.SUPPRESSED, [RuleName.PERMIT])
    assert "P-1" in s.rules[0]["reason"]
    assert (w.status, rules(w)) == (ClueStatus.SUPPRESSED, [RuleName.DISPOSAL_SITE])
    assert expired.status == ClueStatus.ACTIVE  # P-3 expired before the sighting
    assert (loose.status, loose.category) == (ClueStatus.ACTIVE, "construction_waste_dumping")


def test_machinery_is_night_construction_only_at_night_without_permit(
    engine: Engine, around: shapely.Polygon
) -> None:
    save_permits(engine, [("N-1", "night_work", around, None)])
    day, night_permitted, night = ingest(
        engine,
        feature("construction_machinery", DAY, 1000.0),
        feature("construction_machinery", NIGHT),
        feature("muck_truck", NIGHT, 2000.0),
    )
    assert (day.status, rules(day)) == (ClueStatus.SUPPRESSED, [RuleName.DAYTIME_ACTIVITY])
    assert rules(night_permitted) == [RuleName.NIGHT_WORK_PERMIT]
    assert night_permitted.status == ClueStatus.SUPPRESSED
    assert (night.status, night.category) == (ClueStatus.ACTIVE, "night_construction")
    assert "23:30 local" in night.rules[0]["reason"]


def test_night_work_needs_work_lights(engine: Engine) -> None:
    dark, lit, unmeasured = ingest(
        engine,
        feature("construction_machinery", NIGHT, light=1.8),
        feature("construction_machinery", NIGHT, 1000.0, light=9.5),
        feature("muck_truck", NIGHT, 2000.0),
    )
    assert (dark.status, rules(dark)) == (ClueStatus.SUPPRESSED, [RuleName.UNLIT_AT_NIGHT])
    assert "brightest 1.8×" in dark.rules[0]["reason"]
    assert (lit.status, lit.category) == (ClueStatus.ACTIVE, "night_construction")
    # a pipeline that does not measure light is judged as before
    assert (unmeasured.status, rules(unmeasured)) == (ClueStatus.ACTIVE, [RuleName.NIGHT_HOURS])
    with session_scope(engine) as s:
        stored = s.scalars(select(SightingRow.light).where(SightingRow.clue_id == lit.id)).all()
    assert stored == [pytest.approx(9.5)]


def test_one_lit_night_sighting_makes_the_site_active(engine: Engine) -> None:
    (first,) = ingest(engine, feature("construction_machinery", NIGHT, light=2.0))
    assert first.status == ClueStatus.SUPPRESSED
    # the next night the work lights are on: the stored dark sighting does not hide it
    (later,) = ingest(
        engine, feature("construction_machinery", "2026-11-24T16:00:00Z", 2.0, light=12.0)
    )
    assert later.id == first.id
    assert (later.status, rules(later)) == (ClueStatus.ACTIVE, [RuleName.NIGHT_HOURS])
    # daytime light says nothing: a lit daytime sighting does not count
    (day,) = ingest(engine, feature("muck_truck", DAY, 500.0, light=30.0))
    assert rules(day) == [RuleName.DAYTIME_ACTIVITY]


def test_the_light_rule_can_be_turned_off_and_bad_light_is_named(engine: Engine) -> None:
    config = ClueConfig(night_work_light_ratio=None)
    (row,) = ingest(engine, feature("construction_machinery", NIGHT, light=0.5), config=config)
    assert row.status == ClueStatus.ACTIVE
    with pytest.raises(ValueError, match="night_work_light_ratio"):
        ClueConfig(night_work_light_ratio=0.0)
    with pytest.raises(DetectionInputError, match=r"feature 3.*light -1"):
        Detection.from_geojson_feature(feature("muck_truck", NIGHT, light=-1), 3)


def test_a_clue_scored_low_on_every_pass_waits_for_a_surer_sighting(
    engine: Engine, around: shapely.Polygon
) -> None:
    observed = [(around, datetime(2026, 11, 1, tzinfo=UTC), "earlier-flight")]
    (low,) = ingest(engine, feature("illegal_structure", DAY, score=0.3), observed=observed)
    assert (low.status, rules(low)) == (
        ClueStatus.UNCONFIRMED,
        [RuleName.NEW_STRUCTURE, RuleName.LOW_CONFIDENCE],
    )
    assert "best score 0.30 in 1 sighting(s), below the 0.67 an" in low.rules[1]["reason"]
    # the same look-alike again at the same low score: still only kept for review
    (again,) = ingest(engine, feature("illegal_structure", "2026-11-24T02:00:00Z", score=0.3))
    assert (again.id, again.status, again.sighting_count) == (low.id, ClueStatus.UNCONFIRMED, 2)
    # one surer sighting makes it active, with the rule that judged it
    (sure,) = ingest(engine, feature("illegal_structure", "2026-11-25T02:00:00Z", score=0.8))
    assert (sure.id, sure.status) == (low.id, ClueStatus.ACTIVE)
    assert rules(sure) == [RuleName.NEW_STRUCTURE]
    # the floor only holds back what would be active: a suppressed clue stays suppressed
    (day,) = ingest(engine, feature("muck_truck", DAY, 500.0, score=0.3))
    assert (day.status, rules(day)) == (ClueStatus.SUPPRESSED, [RuleName.DAYTIME_ACTIVITY])


def test_the_confidence_floor_can_be_turned_off_and_must_be_a_score(engine: Engine) -> None:
    config = ClueConfig(min_active_confidence=None)
    (row,) = ingest(engine, feature("construction_machinery", NIGHT, score=0.26), config=config)
    assert (row.status, rules(row)) == (ClueStatus.ACTIVE, [RuleName.NIGHT_HOURS])
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="min_active_confidence"):
            ClueConfig(min_active_confidence=bad)


def test_night_hours_are_configurable(engine: Engine) -> None:
    from datetime import time

    config = ClueConfig(night_start=time(9, 0), night_end=time(11, 0))
    (row,) = ingest(engine, feature("construction_machinery", DAY), config=config)
    assert row.status == ClueStatus.ACTIVE


def test_evidence_crop_is_stored_by_content_hash(engine: Engine, tmp_path: Path) -> None:
    frame = tmp_path / "frames" / "f1.png"
    frame.parent.mkdir()
    Image.new("RGB", (200, 100), (40, 120, 200)).save(frame)
    evidence = tmp_path / "evidence"
    config = ClueConfig(evidence_dir=evidence, baseline_on_first_observation=False)
    with_frame = feature(
        "construction_waste", DAY, frame_path="f1.png", pixel_box=[50, 20, 90, 60], source="f1"
    )
    no_frame = feature(
        "construction_waste", DAY, 5000.0, frame_path="gone.png", pixel_box=[1, 1, 5, 5]
    )
    ingest(engine, with_frame, no_frame, config=config, frames_root=frame.parent)
    with session_scope(engine) as s:
        sightings = {r.source: r for r in s.scalars(select(SightingRow))}
    stored = sightings["f1"]
    assert stored.crop_path is not None
    crop = evidence / stored.crop_path
    assert hashlib.sha256(crop.read_bytes()).hexdigest() == stored.crop_sha256
    with Image.open(crop) as img:
        assert img.format == "JPEG"
        assert img.size == (40 + 2 * 16, 40 + 2 * 16)  # 25 % of 40 px < 16 px minimum margin
    missing = next(r for k, r in sightings.items() if k != "f1")
    assert (missing.crop_path, missing.frame_path) == (None, "gone.png")


def test_clue_facts_want_one_light_and_one_score_per_sighting() -> None:
    from api.clues.detection import DetectionClass
    from api.clues.rules import ClueFacts

    at = [datetime(2026, 11, 23, 2, tzinfo=UTC), datetime(2026, 11, 23, 4, tzinfo=UTC)]
    box = shapely.box(0, 0, 1e-4, 1e-4)
    cls = DetectionClass.ILLEGAL_STRUCTURE
    assert ClueFacts(cls, box, at, lights=[None, 2.0], scores=[0.3, 0.5]).scores == [0.3, 0.5]
    with pytest.raises(ValueError, match="1 light values for 2 sightings"):
        ClueFacts(cls, box, at, lights=[2.0])
    with pytest.raises(ValueError, match="3 scores for 2 sightings"):
        ClueFacts(cls, box, at, scores=[0.1, 0.2, 0.3])
