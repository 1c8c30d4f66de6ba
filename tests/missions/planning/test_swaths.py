from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from missions.planning.swaths import Frame, area_edges, sweep_lines

from .conftest import cell_blob


def _band_truth(
    area: shapely.Geometry, frame: Frame, ys: np.ndarray, spacing: float
) -> list[tuple[float, float]]:
    """Per line, the x-extent of the area's parts inside its band, from shapely."""
    swept = frame.geometry_to_sweep(area)
    out = []
    for k, y in enumerate(ys):
        lo = -1e9 if k == 0 else y - spacing / 2
        hi = 1e9 if k == len(ys) - 1 else y + spacing / 2
        # snapping to a mm grid drops the zero-width spikes clipping leaves along a border
        piece = shapely.intersection(swept, shapely.box(-1e6, lo, 1e6, hi), grid_size=1e-3)
        parts = [p for p in shapely.get_parts(piece) if shapely.area(p) > 1e-3]
        out.append(
            (
                min(shapely.bounds(p)[0] for p in parts),
                max(shapely.bounds(p)[2] for p in parts),
            )
        )
    return out


@pytest.mark.parametrize("width", [300.0, 310.0, 333.3])
def test_an_edge_on_a_band_border_does_not_lengthen_the_other_band(width: float) -> None:
    # the step at y = 135 lies exactly on the border between the two bands
    area = shapely.union(shapely.box(0, 0, width, 135), shapely.box(0, 135, 1000, 270))
    c = shapely.centroid(area)
    lines = sweep_lines(area_edges(area), Frame(0.0, (c.x, c.y)), 135.0)
    lengths = [round(float(b - a), 6) for a, b in zip(lines.x0, lines.x1, strict=True)]
    assert lengths == [width, 1000.0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("angle_deg", [0.0, 90.0, 17.3])
def test_band_extents_match_shapely(seed: int, angle_deg: float) -> None:
    area = cell_blob(seed, 120)
    c = shapely.centroid(area)
    frame = Frame(math.radians(angle_deg), (c.x, c.y))
    lines = sweep_lines(area_edges(area), frame, 135.0)
    got: dict[int, tuple[float, float]] = {}
    for k, a, b in zip(lines.k, lines.x0, lines.x1, strict=True):
        lo, hi = got.get(int(k), (math.inf, -math.inf))
        got[int(k)] = (min(lo, float(a)), max(hi, float(b)))
    truth = _band_truth(area, frame, lines.ys, 135.0)
    np.testing.assert_allclose([got[k] for k in sorted(got)], truth, atol=1e-3)
