"""The cells the planner works on, as flat arrays (fast to slice per nest, class and sortie)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from missions.geo.layers import DEFAULT_REVISIT_S, PriorityClass
from missions.planning.errors import PlanningError

__all__ = ["CellTable"]

FloatArray = NDArray[np.float64]

_REQUIRED = ("cell_id", "priority", "revisit_target_s", "geometry")


@dataclass(frozen=True)
class CellTable:
    """Cells in the planning CRS: ids, geometries, centroids, areas, classes and targets."""

    ids: NDArray[np.str_]
    geoms: NDArray[np.object_]
    centroids: FloatArray
    area_m2: FloatArray
    priority: NDArray[np.object_]  # PriorityClass per cell
    revisit_s: FloatArray

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, idx: NDArray[np.int64]) -> CellTable:
        return CellTable(
            self.ids[idx],
            self.geoms[idx],
            self.centroids[idx],
            self.area_m2[idx],
            self.priority[idx],
            self.revisit_s[idx],
        )

    def union(self, idx: NDArray[np.int64]) -> shapely.Geometry:
        """The cells' union with collinear vertices dropped (fewer edges to sweep)."""
        merged = shapely.coverage_union_all(self.geoms[idx])
        return shapely.simplify(merged, 0.01)

    @staticmethod
    def from_frame(cells: gpd.GeoDataFrame) -> CellTable:
        """From :func:`missions.grid.assign_attributes` output; no-fly cells are left out."""
        missing = [c for c in _REQUIRED if c not in cells.columns]
        if missing:
            raise PlanningError(
                f"the cells lack column(s) {missing}; "
                "build them with missions.grid.assign_attributes"
            )
        if "no_fly" in cells.columns:
            cells = cells[~cells["no_fly"].astype(bool)]
        geoms = np.asarray(cells.geometry.values, dtype=object)
        cent = shapely.centroid(geoms)
        return CellTable(
            ids=np.asarray(cells["cell_id"].astype(str).to_numpy()),
            geoms=geoms,
            centroids=np.column_stack([shapely.get_x(cent), shapely.get_y(cent)]).astype(float),
            area_m2=np.asarray(shapely.area(geoms), dtype=float),
            priority=np.array([PriorityClass(p) for p in cells["priority"]], dtype=object),
            revisit_s=cells["revisit_target_s"].to_numpy(dtype=float),
        )

    @staticmethod
    def from_geometries(
        geoms: NDArray[np.object_], priority: list[PriorityClass], ids: list[str] | None = None
    ) -> CellTable:
        """From bare metric polygons (tests, benchmarks); targets from the class defaults."""
        cent = shapely.centroid(geoms)
        return CellTable(
            ids=np.asarray(ids if ids is not None else [f"c{i:06d}" for i in range(len(geoms))]),
            geoms=np.asarray(geoms, dtype=object),
            centroids=np.column_stack([shapely.get_x(cent), shapely.get_y(cent)]).astype(float),
            area_m2=np.asarray(shapely.area(geoms), dtype=float),
            priority=np.array(priority, dtype=object),
            revisit_s=np.array([float(DEFAULT_REVISIT_S[p]) for p in priority]),
        )
