"""QGC ``.plan``: the documented top-level shape, and the same items as the WPL file minus home."""

from __future__ import annotations

import json

from missions.export import MavAutopilot, MissionOptions, mission_items, to_qgc_plan
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie


def test_top_level_shape(sortie: Sortie, nest: Nest) -> None:
    plan = to_qgc_plan(sortie, nest)
    assert plan["fileType"] == "Plan"
    assert plan["version"] == 1
    assert set(plan) == {
        "fileType",
        "version",
        "groundStation",
        "geoFence",
        "mission",
        "rallyPoints",
    }
    assert plan["geoFence"] == {"circles": [], "polygons": [], "version": 2}
    assert plan["rallyPoints"] == {"points": [], "version": 2}
    mission = plan["mission"]
    assert mission["version"] == 2
    assert mission["plannedHomePosition"] == [nest.lat, nest.lon, nest.ground_elevation_m]
    assert mission["firmwareType"] == MavAutopilot.GENERIC
    assert to_qgc_plan(sortie, nest, firmware=MavAutopilot.PX4)["mission"]["firmwareType"] == 12


def test_items_match_the_mission_items_without_home(sortie: Sortie, nest: Nest) -> None:
    items = mission_items(sortie, nest, MissionOptions(include_home=False))
    plan_items = to_qgc_plan(sortie, nest)["mission"]["items"]
    assert len(plan_items) == len(items) == len(mission_items(sortie, nest)) - 1
    for n, (pi, item) in enumerate(zip(plan_items, items, strict=True), start=1):
        assert pi["type"] == "SimpleItem"
        assert pi["doJumpId"] == n
        assert (pi["command"], pi["frame"], pi["autoContinue"]) == (
            item.command,
            item.frame,
            item.autocontinue,
        )
        assert len(pi["params"]) == 7
        assert pi["params"][4:] == [item.lat_deg, item.lon_deg, item.alt_m]


def test_is_strict_json_with_null_for_unset_params(sortie: Sortie, nest: Nest) -> None:
    plan = to_qgc_plan(sortie, nest)
    text = json.dumps(plan, allow_nan=False)  # raises on NaN
    takeoff = json.loads(text)["mission"]["items"][0]
    assert takeoff["command"] == 22
    assert takeoff["params"][3] is None  # yaw not set: keep the current heading


def test_positioned_items_say_their_height_is_relative(sortie: Sortie, nest: Nest) -> None:
    items = to_qgc_plan(sortie, nest)["mission"]["items"]
    positioned = [i for i in items if i["frame"] == 3]
    assert len(positioned) == len(sortie.waypoints)
    assert all(i["AltitudeMode"] == 1 and i["Altitude"] == i["params"][6] for i in positioned)
    assert not any("AltitudeMode" in i for i in items if i["frame"] == 2)
