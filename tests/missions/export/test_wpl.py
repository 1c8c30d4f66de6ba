"""QGC WPL 110: round-trips through pymavlink's own loader and says what the sortie says."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink import mavwp

from missions.export import (
    WPL_HEADER,
    ExportError,
    LandingMode,
    MavCmd,
    MavFrame,
    MissionOptions,
    mission_items,
    to_wpl,
)
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie, Waypoint, WaypointAction

C = MavCmd
EXPECTED_COMMANDS = [
    C.NAV_WAYPOINT,  # home
    C.NAV_TAKEOFF,
    C.DO_CHANGE_SPEED,
    C.NAV_WAYPOINT,
    C.NAV_WAYPOINT,
    C.DO_SET_CAM_TRIGG_DIST,
    C.DO_CHANGE_SPEED,
    C.NAV_WAYPOINT,
    C.NAV_WAYPOINT,
    C.NAV_WAYPOINT,
    C.DO_SET_CAM_TRIGG_DIST,
    C.DO_CHANGE_SPEED,
    C.NAV_LOITER_TIME,
    C.NAV_WAYPOINT,
    C.DO_CHANGE_SPEED,
    C.NAV_LAND,
]


def _load(text: str) -> list[Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mission.waypoints"
        path.write_text(text)
        loader = mavwp.MAVWPLoader()
        loader.load(str(path))
        return [loader.wp(i) for i in range(loader.count())]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _assert_round_trip(sortie: Sortie, nest: Nest) -> None:
    items = mission_items(sortie, nest)
    loaded = _load(to_wpl(sortie, nest))
    assert len(loaded) == len(items)
    for item, wp in zip(items, loaded, strict=True):
        assert (wp.seq, wp.command, wp.frame) == (item.seq, item.command, item.frame)
        assert (wp.current, wp.autocontinue) == (int(item.current), int(item.autocontinue))
        assert abs(wp.x - item.lat_deg) <= 1e-7
        assert abs(wp.y - item.lon_deg) <= 1e-7
        assert wp.z == item.alt_m
        params = (wp.param1, wp.param2, wp.param3, wp.param4)
        expected = (item.param1, item.param2, item.param3, item.param4)
        assert all(_same(a, b) for a, b in zip(params, expected, strict=True))


def test_round_trips_through_mavwp_loader(sortie: Sortie, nest: Nest) -> None:
    text = to_wpl(sortie, nest)
    assert text.splitlines()[0] == WPL_HEADER
    assert all(len(line.split("\t")) == 12 for line in text.splitlines()[1:])
    _assert_round_trip(sortie, nest)


def test_commands_follow_the_sortie(sortie: Sortie, nest: Nest) -> None:
    items = mission_items(sortie, nest)
    assert [i.command for i in items] == EXPECTED_COMMANDS
    home = items[0]
    assert (home.frame, home.current) == (MavFrame.GLOBAL, True)
    assert (home.lat_deg, home.lon_deg, home.alt_m) == (nest.lat, nest.lon, nest.ground_elevation_m)
    assert not any(i.current for i in items[1:])
    nav = [
        i
        for i in items[1:]
        if i.command in (C.NAV_WAYPOINT, C.NAV_TAKEOFF, C.NAV_LAND, C.NAV_LOITER_TIME)
    ]
    assert all(i.frame is MavFrame.GLOBAL_RELATIVE_ALT for i in nav)
    assert [(i.lat_deg, i.lon_deg) for i in nav] == [(w.lat, w.lon) for w in sortie.waypoints]
    assert [i.alt_m for i in nav] == [w.alt_m for w in sortie.waypoints[:-1]] + [0.0]
    do = [i for i in items if i.command in (C.DO_SET_CAM_TRIGG_DIST, C.DO_CHANGE_SPEED)]
    assert all(i.frame is MavFrame.MISSION for i in do)


def test_camera_on_at_survey_start_and_off_at_survey_end(sortie: Sortie, nest: Nest) -> None:
    items = mission_items(sortie, nest)
    cam = [i for i in items if i.command is C.DO_SET_CAM_TRIGG_DIST]
    assert [(i.param1, i.param3) for i in cam] == [(41.5, 1.0), (0.0, 0.0)]
    assert items[cam[0].seq - 1].lat_deg == sortie.waypoints[2].lat  # right after survey start
    assert items[cam[1].seq - 1].lon_deg == sortie.waypoints[5].lon  # right after survey end


def test_speed_changes_only_where_speed_changes(sortie: Sortie, nest: Nest) -> None:
    speeds = [i.param2 for i in mission_items(sortie, nest) if i.command is C.DO_CHANGE_SPEED]
    assert speeds == [12.0, 10.0, 14.0, 5.0]


def test_rtl_option_ends_with_return_to_launch(sortie: Sortie, nest: Nest) -> None:
    items = mission_items(sortie, nest, MissionOptions(landing=LandingMode.RETURN_TO_LAUNCH))
    assert items[-1].command is C.NAV_RETURN_TO_LAUNCH
    assert C.NAV_LAND not in [i.command for i in items]


def test_camera_left_on_is_switched_off_before_landing(sortie: Sortie, nest: Nest) -> None:
    sortie.waypoints[5] = Waypoint(113.3912345, 22.9422345, 100.0, 14.0, WaypointAction.SURVEY)
    items = mission_items(sortie, nest)
    assert items[-2].command is C.DO_SET_CAM_TRIGG_DIST
    assert items[-2].param1 == 0.0


def test_no_land_waypoint_gets_return_to_launch(sortie: Sortie, nest: Nest) -> None:
    sortie.waypoints.pop()
    items = mission_items(sortie, nest)
    assert items[-1].command is C.NAV_RETURN_TO_LAUNCH


def test_empty_sortie_is_refused(nest: Nest) -> None:
    with pytest.raises(ExportError, match="no waypoints"):
        to_wpl(Sortie(sortie_id="s-x", nest_id=nest.nest_id, waypoints=[]), nest)


def test_survey_start_without_spacing_is_refused(sortie: Sortie, nest: Nest) -> None:
    sortie.waypoints[2] = Waypoint(113.39, 22.94, 100.0, 10.0, WaypointAction.SURVEY_START)
    with pytest.raises(ExportError, match=r"waypoint 2: SURVEY_START .* Fix:"):
        to_wpl(sortie, nest)


_ACTIONS = st.sampled_from([WaypointAction.TRANSIT, WaypointAction.SURVEY, WaypointAction.LOITER])
_WAYPOINT = st.builds(
    Waypoint,
    lon=st.floats(-180, 180),
    lat=st.floats(-89.9, 89.9),
    alt_m=st.floats(0, 500),
    speed_mps=st.sampled_from([3.0, 8.5, 12.0, 15.0]),
    action=_ACTIONS,
)


@settings(max_examples=25, deadline=None)
@given(middle=st.lists(_WAYPOINT, min_size=1, max_size=12), elev=st.floats(-50, 3000))
def test_any_sortie_round_trips(middle: list[Waypoint], elev: float) -> None:
    nest = Nest(nest_id="n", lon=middle[0].lon, lat=middle[0].lat, ground_elevation_m=elev)
    takeoff = Waypoint(nest.lon, nest.lat, 30.0, 10.0, WaypointAction.TAKEOFF)
    land = Waypoint(nest.lon, nest.lat, 0.0, 2.0, WaypointAction.LAND)
    sortie = Sortie(sortie_id="h", nest_id="n", waypoints=[takeoff, *middle, land])
    _assert_round_trip(sortie, nest)
