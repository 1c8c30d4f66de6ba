from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.clues import Detection, DetectionClass, load_detections
from api.clues.clustering import Cluster, MetricFrame, clue_confidence, cluster_detections
from api.errors import DetectionInputError
from missions.geo.crs import utm_crs_for

from .conftest import LAT0, LON0, feature


def test_feature_is_parsed_to_a_typed_detection() -> None:
    det = Detection.from_geojson_feature(
        feature("muck_truck", "2026-11-23T15:00:00+08:00", pixel_box=[1, 2, 30, 40])
    )
    assert det.detection_class is DetectionClass.MUCK_TRUCK
    assert det.observed_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert det.pixel_box == (1, 2, 30, 40)
    assert det.ground.area > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"class": "cat"}, "unknown class 'cat'"),
        ({"score": 1.5}, "not in 0..1"),
        ({"observed_at": "2026-11-23T10:00:00"}, "no time zone"),
        ({"observed_at": "yesterday"}, "not an ISO time"),
        ({"source": ""}, "'source' is missing"),
        ({"pixel_box": [10, 10, 5, 20]}, "is empty"),
    ],
)
def test_bad_feature_names_its_index_and_the_fix(change: dict[str, object], message: str) -> None:
    f = feature("illegal_structure", "2026-11-23T10:00:00Z")
    f["properties"].update(change)
    with pytest.raises(DetectionInputError, match=f"feature 3: .*{message}.*fix:"):
        Detection.from_geojson_feature(f, 3)


def test_point_geometry_is_refused() -> None:
    f = feature("illegal_structure", "2026-11-23T10:00:00Z")
    f["geometry"] = {"type": "Point", "coordinates": [LON0, LAT0]}
    with pytest.raises(DetectionInputError, match="geometry is a Point"):
        Detection.from_geojson_feature(f, 0)


def test_file_lists_every_bad_feature(tmp_path: Path) -> None:
    good = feature("illegal_structure", "2026-11-23T10:00:00Z")
    bad1 = feature("boat", "2026-11-23T10:00:00Z")
    bad2 = feature("illegal_structure", "never")
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bad1, bad2]}))
    with pytest.raises(DetectionInputError, match=r"2 bad feature\(s\)") as err:
        load_detections(path)
    assert "feature 1" in str(err.value)
    assert "feature 2" in str(err.value)


def _dets(*specs: tuple[str, float, float, int]) -> list[Detection]:
    t0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    return [
        Detection.from_geojson_feature(feature(cls, (t0 + timedelta(hours=h)).isoformat(), dx, 0.0))
        for cls, dx, _, h in specs
    ]


def _cluster(dets: list[Detection], existing: list[Cluster] | None = None) -> list[Cluster]:
    frame = MetricFrame(utm_crs_for(LON0, LAT0))
    grounds = [frame.to_metric(d.ground) for d in dets]
    return cluster_detections(
        dets, grounds, existing or [], merge_distance_m=10.0, max_gap_s=7 * 86400.0
    )


def test_same_class_within_10_m_is_one_object_and_farther_is_another() -> None:
    # squares are 6 m wide: dx 14 m leaves an 8 m gap (merge), dx 40 m leaves 26 m (separate)
    dets = _dets(
        ("illegal_structure", 0, 0, 0),
        ("illegal_structure", 14, 0, 1),
        ("illegal_structure", 40, 0, 2),
    )
    clusters = _cluster(dets)
    assert sorted(len(c.members) for c in clusters) == [1, 2]


def test_other_class_on_the_same_spot_is_another_clue() -> None:
    dets = _dets(("construction_waste", 0, 0, 0), ("muck_truck", 0, 0, 0))
    assert len(_cluster(dets)) == 2


def test_sighting_after_the_time_gap_starts_a_new_clue() -> None:
    dets = _dets(("construction_waste", 0, 0, 0), ("construction_waste", 0, 0, 24 * 8))
    assert len(_cluster(dets)) == 2


def test_file_order_does_not_change_the_clusters() -> None:
    dets = _dets(*[("illegal_structure", 9.0 * i, 0, i) for i in range(6)])
    a = sorted(sorted(c.members) for c in _cluster(dets))
    rev = list(reversed(dets))
    b = sorted(sorted(len(dets) - 1 - m for m in c.members) for c in _cluster(rev))
    assert a == b == [[0, 1, 2, 3, 4, 5]]


@given(st.lists(st.floats(0.0, 1.0), max_size=12), st.floats(0.0, 1.0))
def test_confidence_never_falls_with_another_sighting(seen: list[float], score: float) -> None:
    before = clue_confidence(seen)
    after = clue_confidence([*seen, score])
    assert before <= after <= 1.0
    assert after >= score


def test_repeated_weak_sightings_do_not_add_up_to_a_confident_clue() -> None:
    assert clue_confidence([0.3] * 10) == pytest.approx(0.3)
    assert clue_confidence([0.6, 0.8, 0.5]) == pytest.approx(0.8)
    assert clue_confidence([]) == 0.0
