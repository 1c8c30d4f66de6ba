"""The controller's planner seam for a simulated day: which cells a flight missed (from the
frames it really took) and the make-up sorties the planner builds for them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from missions.fleet.profiles import Nest
from missions.planning.fleetplan import FleetPlan
from missions.planning.makeup import MakeUpSorties
from missions.planning.sortie import Sortie
from patrol.adapters.base import FlightLog
from patrol.coverage.sightings import cells_seen
from patrol.footprints import capture_footprints

__all__ = ["DayPlanner"]


class DayPlanner:
    def __init__(self, plan: FleetPlan, nests: dict[str, Nest]) -> None:
        self._plan = plan
        self._nests = nests
        self._crs: CRS = plan.frame.crs
        self._cells = gpd.GeoDataFrame(
            {"cell_id": plan.cells.ids.astype(str)}, geometry=plan.cells.geoms, crs=self._crs
        ).set_index("cell_id", drop=False)
        self._makeup = MakeUpSorties(plan)

    def missed_cells(self, sortie: Sortie, flight: FlightLog) -> list[str]:
        wanted = [c for c in sortie.cell_ids if c in self._cells.index]
        if not flight.captures:
            return wanted
        camera = self._nests[sortie.nest_id].profile.camera
        fps = [f for f in capture_footprints(flight.captures, camera, self._crs) if f is not None]
        if not fps:
            return wanted
        metric = gpd.GeoSeries(fps, crs="EPSG:4326").to_crs(self._crs)
        times = pd.DatetimeIndex([c.t for c in flight.captures if c.alt_m >= 1.0])
        seen = cells_seen(
            self._cells.loc[wanted].reset_index(drop=True),
            np.asarray(metric.values, dtype=object),
            times[: len(metric)],
        )
        got = set(seen["cell_id"])
        return [c for c in wanted if c not in got]

    def make_up(self, nest_id: str, cell_ids: Sequence[str], after: datetime) -> list[Sortie]:
        return self._makeup.make_up(nest_id, cell_ids, after)
