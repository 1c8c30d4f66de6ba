"""The unit grid: square cells over the district, with jurisdiction, priority and no-fly flags."""

from missions.grid.attributes import GridAttributes, assign_attributes
from missions.grid.build import Grid, build_grid, cell_id, to_metric

__all__ = ["Grid", "GridAttributes", "assign_attributes", "build_grid", "cell_id", "to_metric"]
