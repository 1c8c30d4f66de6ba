"""Scoring rules of the simulated day: clue-level recall and the false-clue rate's bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely

from api.simday.truth import (
    ClueFact,
    DayScore,
    ViolationResult,
    _clued_time,
    poisson_upper_95,
)
from detection.classes import ViolationClass
from detection.synthetic.world import ObjectKind, SceneObject
from patrol.sim.dynamics import Violation

T0 = datetime(2026, 11, 24, tzinfo=UTC)
SQUARE = shapely.box(0.0, 0.0, 4.0, 4.0)


def _violation(vid: str, priority: str = "core", *, preexisting: bool = False) -> Violation:
    obj = SceneObject(ObjectKind.STEEL_SHED, SQUARE, (2.0, 2.0), 0.0, 4.0, 4.0, (40, 90, 200))
    return Violation(
        violation_id=vid,
        label=ViolationClass.ILLEGAL_STRUCTURE,
        kind=ObjectKind.STEEL_SHED,
        block_id="b",
        cell_id="c",
        priority=priority,
        jurisdiction=None,
        footprint=SQUARE,
        object=obj,
        appears_at=T0 - timedelta(days=40) if preexisting else T0,
        disappears_at=None,
        preexisting=preexisting,
    )


def _score(results: list[ViolationResult], false: int, km2: float, hours: float) -> DayScore:
    clues = [ClueFact(i, "illegal_structure", "active", SQUARE) for i in range(false)]
    return DayScore(results, clues, {"active": false}, T0, T0 + timedelta(hours=hours), km2)


def test_poisson_upper_bound_matches_the_textbook_values() -> None:
    assert poisson_upper_95(0) == pytest.approx(2.996, abs=1e-3)  # the "rule of three"
    assert poisson_upper_95(1) == pytest.approx(4.744, abs=1e-3)
    assert poisson_upper_95(10) == pytest.approx(16.962, abs=1e-3)


def test_false_rate_states_its_resolution_and_upper_bound() -> None:
    score = _score([], false=2, km2=0.25, hours=24.0)
    assert score.false_per_100km2_day() == pytest.approx(800.0)
    bounds = score.false_rate_bounds(target=5.0)
    assert bounds["count"] == 2
    assert bounds["per_false_clue"] == pytest.approx(400.0)
    assert bounds["upper_95"] == pytest.approx(poisson_upper_95(2) * 400.0, abs=0.1)
    # zero false clues bound the rate at 5 per 100 km² per day only over ≈ 60 km²·days
    assert bounds["km2_days_to_show_target"] == pytest.approx(59.9, abs=0.1)


def test_two_days_halve_the_rate_of_the_same_count() -> None:
    one = _score([], false=3, km2=1.0, hours=24.0).false_per_100km2_day()
    two = _score([], false=3, km2=1.0, hours=48.0).false_per_100km2_day()
    assert two == pytest.approx(one / 2.0)


def test_clued_recall_counts_only_violations_an_active_clue_covered_in_time() -> None:
    hour = timedelta(hours=1)
    results = [  # core revisit target: 2 h
        ViolationResult(_violation("a"), T0, T0, T0 + hour, clued_at=T0 + hour),
        ViolationResult(_violation("b"), T0, T0, T0 + hour, clued_at=T0 + 3 * hour),
        ViolationResult(_violation("c"), T0, T0, T0 + hour, clued_at=None),
        ViolationResult(_violation("d"), T0, None, None, clued_at=None),
    ]
    row = _score(results, false=0, km2=1.0, hours=24.0).table("priority")[0]
    assert row["group"] == "core"
    assert row["recall_within_revisit"] == 0.75
    assert row["clued"] == 0.5
    assert row["clued_within_revisit"] == 0.25


def test_preexisting_violations_are_not_timed_from_the_days_start() -> None:
    """A shed built weeks ago and first seen at first light is not "7 h late"."""
    hour = timedelta(hours=1)
    results = [
        ViolationResult(_violation("new"), T0, T0, T0 + hour, clued_at=T0 + hour),
        ViolationResult(_violation("old", preexisting=True), T0, T0, T0 + 7 * hour),
        ViolationResult(_violation("old-unseen", preexisting=True), T0, T0, None),
    ]
    row = _score(results, false=0, km2=1.0, hours=24.0).table("priority")[0]
    assert (row["violations"], row["new"], row["preexisting"]) == (3, 1, 2)
    assert row["judged_within_revisit"] == 1
    assert row["recall_within_revisit"] == 1.0
    assert row["median_h"] == 1.0
    assert row["p90_h"] == 1.0
    assert row["recall"] == pytest.approx(0.667, abs=1e-3)  # all of them, found at any time
    assert row["recall_preexisting"] == 0.5


def test_a_clue_started_before_the_violation_appeared_gets_no_credit_for_that() -> None:
    """A look-alike seen on the spot the day before, then the real object: timed from the latter."""
    hour = timedelta(hours=1)
    end = T0 + 24 * hour

    def clue(first: datetime, *seen: datetime) -> ClueFact:
        return ClueFact(1, "illegal_structure", "active", SQUARE, 0.7, first, tuple(seen))

    assert (
        _clued_time(clue(T0 - 20 * hour, T0 - 20 * hour, T0 + 3 * hour), T0, end) == T0 + 3 * hour
    )
    assert _clued_time(clue(T0 - hour, T0 - hour), T0, end) is None  # never seen after
    assert _clued_time(clue(T0 - hour), T0, end) == T0 - hour  # no sighting times: its first
