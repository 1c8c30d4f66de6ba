"""Seeded district shapes (WGS-84, around Guangzhou) for grid tests."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer

TO_WGS = Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True)
X0, Y0 = 740_123.4, 2_540_067.8  # deliberately not on the 100 m lattice


def metric_to_wgs(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1])))


def shapes() -> dict[str, shapely.Geometry]:
    """Metric test districts: square, concave, holed, islands, invalid as given."""
    square = shapely.box(X0, Y0, X0 + 2_081.6, Y0 + 1_535.2)  # 5 m and 3 m slivers
    concave = shapely.Polygon(
        [
            (X0, Y0),
            (X0 + 3000, Y0),
            (X0 + 3000, Y0 + 800),
            (X0 + 900, Y0 + 800),
            (X0 + 900, Y0 + 2500),
            (X0, Y0 + 2500),
        ]
    )
    holed = shapely.Polygon(
        shapely.box(X0, Y0, X0 + 2500, Y0 + 2500).exterior.coords,
        [shapely.Point(X0 + 1250, Y0 + 1250).buffer(600, 16).exterior.coords],
    )
    islands = shapely.MultiPolygon(
        [
            shapely.box(X0, Y0, X0 + 1500, Y0 + 1500),
            shapely.Point(X0 + 2600, Y0 + 600).buffer(450, 24),
            shapely.box(X0 + 2020, Y0 + 2020, X0 + 2040, Y0 + 2045),  # islet far below a cell
        ]
    )
    ring = [(0, 0), (10, 0), (10, 10), (0, 10), (0.1, -0.1)]
    invalid = shapely.Polygon([(X0 + 200 * x, Y0 + 200 * y) for x, y in ring])
    return {
        "square": square,
        "concave": concave,
        "holed": holed,
        "islands": islands,
        "invalid": invalid,
    }
