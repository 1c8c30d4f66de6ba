from __future__ import annotations

import dataclasses

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from missions.fleet import Nest, NestStatus
from missions.planning.assign import AssignConfig, assign_cells, reach_distances
from missions.planning.energy import round_trip_s
from missions.planning.transit import TransitPlanner

from .conftest import FRAME


def _nests(xy: np.ndarray) -> list[Nest]:
    lonlat = FRAME.to_wgs84(xy)
    return [Nest(f"N{i}", float(a), float(b)) for i, (a, b) in enumerate(lonlat)]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5))
def test_cells_go_only_to_nests_that_can_reach_them_and_loads_even_out(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, 20_000, (3000, 2)) + np.array([730_000.0, 2_530_000.0])
    nest_xy = rng.uniform(2000, 18_000, (k, 2)) + np.array([730_000.0, 2_530_000.0])
    nests = _nests(nest_xy)
    tp = TransitPlanner(shapely.Polygon())
    dist = reach_distances([tuple(p) for p in nest_xy], cells, tp)
    demand = np.ones(len(cells))
    cfg = AssignConfig()
    pick = assign_cells(nests=nests, dist=dist, demand=demand, config=cfg)
    p = nests[0].profile
    for c in np.flatnonzero(pick >= 0):
        d = dist[pick[c], c]
        assert round_trip_s(p, d, cfg.altitude_m) + cfg.min_survey_s <= p.plannable_s
        assert d <= p.max_radius_m
    reach = np.isfinite(np.where(dist <= p.max_radius_m, dist, np.inf)).any(axis=0)
    assert np.all(pick[~reach] == -1)
    nearest = np.argmin(dist, axis=0)
    ok = pick >= 0
    spread = np.bincount(pick[ok], minlength=k).max()
    nearest_spread = np.bincount(nearest[ok], minlength=k).max()
    assert spread <= nearest_spread


def test_offline_nest_gets_nothing() -> None:
    xy = np.array([[740_000.0, 2_540_000.0], [741_000.0, 2_540_000.0]])
    nests = _nests(xy)
    nests[1] = dataclasses.replace(nests[1], status=NestStatus.OFFLINE)
    cells = xy + 300.0
    dist = reach_distances([tuple(p) for p in xy], cells, TransitPlanner(shapely.Polygon()))
    pick = assign_cells(nests=nests, dist=dist, demand=np.ones(2))
    assert list(pick) == [0, 0]
