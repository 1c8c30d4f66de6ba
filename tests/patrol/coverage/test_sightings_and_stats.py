from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from patrol.coverage import CoverageConfig, cells_seen, coverage_state, longest_unseen, summarize
from patrol.errors import PatrolError

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def grid(n: int = 4) -> gpd.GeoDataFrame:
    """n × n cells of 100 m in a metric CRS, ids c{row}{col}."""
    rows, cols = np.divmod(np.arange(n * n), n)
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"c{r}{c}" for r, c in zip(rows, cols, strict=True)],
            "row": rows,
            "col": cols,
            "priority": ["core"] * n + ["standard"] * (n * n - n),
            "jurisdiction": ["A"] * (n * n // 2) + ["B"] * (n * n - n * n // 2),
            "revisit_target_s": [7200] * n + [86400] * (n * n - n),
        },
        geometry=shapely.box(cols * 100, rows * 100, cols * 100 + 100, rows * 100 + 100),
        crs="EPSG:32649",
    )


def test_a_footprint_sees_the_cells_it_covers() -> None:
    fp = np.array([shapely.box(-5, -5, 205, 105)])  # covers c00, c01 fully, c02 for 5 m only
    seen = cells_seen(grid(), fp, pd.DatetimeIndex([T0]))
    assert sorted(seen["cell_id"]) == ["c00", "c01"]
    assert (seen["seen_at"] == pd.Timestamp(T0)).all()
    assert (seen["fraction"] == 1.0).all()


def test_union_of_footprints_counts_and_latest_time_wins() -> None:
    halves = np.array([shapely.box(0, 0, 50, 100), shapely.box(50, 0, 100, 100)])
    times = pd.DatetimeIndex([T0, T0 + timedelta(seconds=30)])
    seen = cells_seen(grid(), halves, times)
    assert list(seen["cell_id"]) == ["c00"]
    assert seen["seen_at"].iloc[0] == pd.Timestamp(T0 + timedelta(seconds=30))


def test_partial_coverage_below_the_threshold_is_not_a_sighting() -> None:
    fp = np.array([shapely.box(0, 0, 60, 100)])
    assert cells_seen(grid(), fp, pd.DatetimeIndex([T0])).empty
    lenient = cells_seen(grid(), fp, pd.DatetimeIndex([T0]), CoverageConfig(min_fraction=0.5))
    assert list(lenient["cell_id"]) == ["c00"]


def test_bad_inputs() -> None:
    with pytest.raises(PatrolError, match="one time per frame"):
        cells_seen(grid(), np.array([shapely.box(0, 0, 1, 1)]), pd.DatetimeIndex([]))
    with pytest.raises(PatrolError, match="min_fraction"):
        CoverageConfig(min_fraction=0)


def sightings(rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell_id": [c for c, _ in rows],
            "seen_at": pd.DatetimeIndex([T0 + timedelta(hours=h) for _, h in rows]),
        }
    )


def test_state_last_seen_counts_targets_and_worst_gaps() -> None:
    cells = grid(2)  # c00, c01 core (2 h); c10, c11 standard (24 h)
    seen = sightings([("c00", -5), ("c00", 2), ("c00", 5), ("c01", 9), ("c10", 1)])
    state = coverage_state(cells, seen, now=T0 + timedelta(hours=10), window_start=T0).set_index(
        "cell_id"
    )
    assert state.loc["c00", "count"] == 2
    assert state.loc["c00", "hours_since_seen"] == pytest.approx(5)
    assert not state.loc["c00", "within_target"]
    assert state.loc["c01", "within_target"]
    assert state.loc["c10", "within_target"]
    assert pd.isna(state.loc["c11", "last_seen"])
    assert not state.loc["c11", "within_target"]
    # c00: anchor −5 h (clipped to the 10 h window), 2 → 5 = 3 h, 5 → 10 = 5 h; from −5 to 2 = 7 h
    assert state.loc["c00", "worst_gap_s"] == pytest.approx(7 * 3600)
    assert state.loc["c01", "worst_gap_s"] == pytest.approx(9 * 3600)
    assert state.loc["c11", "worst_gap_s"] == pytest.approx(10 * 3600)
    by_class = summarize(state.reset_index(), "priority").set_index("priority")
    assert by_class.loc["core", "within_target"] == pytest.approx(0.5)
    assert by_class.loc["standard", "within_target"] == pytest.approx(0.5)
    assert by_class.loc["core", "worst_gap_h"] == pytest.approx(9)
    assert list(longest_unseen(state.reset_index(), 2)["cell_id"]) == ["c11", "c10"]


def test_state_needs_aware_times_and_a_real_window() -> None:
    with pytest.raises(PatrolError, match="timezone-aware"):
        coverage_state(grid(2), sightings([]), now=datetime(2026, 1, 1), window_start=T0)
    with pytest.raises(PatrolError, match="start before"):
        coverage_state(grid(2), sightings([]), now=T0, window_start=T0)
