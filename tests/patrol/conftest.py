"""Patrol fixtures: a sortie exactly as the planner builds it (survey lines over a 1 km × 0.7 km
box beside a nest in Panyu, with the planner's own duration estimate), for the simulated vehicle
and the nest adapters."""

from __future__ import annotations

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
    """≈15 minutes: take-off, six 1 km survey lines at 120 m, land; ≈60 frames."""
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
