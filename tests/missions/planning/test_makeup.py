"""Make-up sorties for cells a flight missed: flyable, validated, split to fit the battery."""

from __future__ import annotations

from datetime import datetime

import pytest

from missions.planning.errors import PlanningError
from missions.planning.fleetplan import plan_fleet
from missions.planning.makeup import MakeUpSorties
from missions.planning.validate import validate_sortie

from .conftest import FRAME, TZ, make_world

AFTER = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


def _plan(n_cells: int = 300):  # type: ignore[no-untyped-def]
    w = make_world(3, n_cells=n_cells, n_nests=2, n_zones=2)
    return plan_fleet(cells=w.cells, nests=w.nests, frame=FRAME, zones=w.zones, tz=TZ)


def test_missed_cells_come_back_as_one_valid_sortie() -> None:
    plan = _plan()
    ids = [str(c) for c in plan.cells.ids[plan.assignment == 0][:6]]
    nest = plan.nests[0]
    (sortie,) = MakeUpSorties(plan).make_up(nest.nest_id, ids, AFTER)
    assert sorted(sortie.cell_ids) == sorted(ids)
    assert sortie.planned_start == AFTER
    assert sortie.nest_id == nest.nest_id
    assert sortie.estimated_duration_s <= nest.profile.plannable_s
    validate_sortie(sortie, nest=nest, frame=FRAME, zones=plan.zones, tz=TZ)


def test_too_many_cells_are_split_until_each_piece_fits() -> None:
    plan = _plan(600)
    nest = plan.nests[0]
    ids = [str(c) for c in plan.cells.ids[plan.assignment == 0]]
    pieces = MakeUpSorties(plan).make_up(nest.nest_id, ids, AFTER)
    assert len(pieces) > 1
    assert len({s.sortie_id for s in pieces}) == len(pieces)
    for s in pieces:
        assert s.estimated_duration_s <= nest.profile.plannable_s
        validate_sortie(s, nest=nest, frame=FRAME, zones=plan.zones, tz=TZ)
    flown = sorted(c for s in pieces for c in s.cell_ids)
    assert set(flown) <= set(ids)
    assert len(flown) >= 0.9 * len(ids)


def test_unknown_cells_are_ignored_and_unknown_nests_refused() -> None:
    plan = _plan()
    assert MakeUpSorties(plan).make_up(plan.nests[0].nest_id, ["no-such-cell"], AFTER) == []
    with pytest.raises(PlanningError, match="not in the plan"):
        MakeUpSorties(plan).make_up("ghost", ["x"], AFTER)
