"""Patrol fixtures: a sortie exactly as the planner builds it (survey lines over a 1 km × 0.7 km
box beside a nest in Panyu, with the planner's own duration estimate), for the simulated vehicle
and the nest adapters."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS

from missions.fleet.profiles import Nest
from missions.planning.builder import SortieRequest, build_sortie
from missions.planning.camera import patrol_survey
from missions.planning.frame import MetricFrame
from missions.planning.sortie import Sortie
from missions.planning.transit import TransitPlanner


@pytest.fixture(scope="session")
def survey_frame() -> MetricFrame:
    return MetricFrame(CRS.from_epsg(32649))  # UTM 49N, the reference district's zone


@pytest.fixture(scope="session")
def survey_nest() -> Nest:
    return Nest(nest_id="nest-sim", lon=113.3841234, lat=22.9371234, ground_elevation_m=12.5)


@pytest.fixture(scope="session")
def survey_sortie(survey_nest: Nest, survey_frame: MetricFrame) -> Sortie:
    """≈15 minutes: take-off, survey lines over a 1 km × 700 m box at 120 m, land."""
    nx, ny = survey_frame.point(survey_nest.lon, survey_nest.lat)
    request = SortieRequest(
        "s-survey", survey_nest, (nx, ny), shapely.box(nx + 400, ny + 300, nx + 1400, ny + 1000)
    )
    return build_sortie(
        request,
        survey=patrol_survey(survey_nest.profile.camera),
        transit=TransitPlanner(shapely.Polygon()),
        frame=survey_frame,
    )


@pytest.fixture(scope="session")
def survey_photos(survey_sortie: Sortie, survey_frame: MetricFrame) -> int:
    """Photos the camera takes on ``survey_sortie``: one at each line start, then one per
    trigger spacing up to the line's end."""
    wps = survey_sortie.waypoints
    xy = survey_frame.to_metric([w.lon for w in wps], [w.lat for w in wps])
    n = 0
    for i, w in enumerate(wps):
        if w.action == "survey_start" and w.trigger_spacing_m:
            length = float(np.hypot(*(np.asarray(xy[i + 1]) - np.asarray(xy[i]))))
            n += int(length / w.trigger_spacing_m + 1e-6) + 1
    return n
