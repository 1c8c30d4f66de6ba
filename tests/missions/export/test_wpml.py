"""DJI WPML ``.kmz``: parsed back with lxml, both files say what the sortie says."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]  # no stubs; parse with another library

from missions.export import (
    KML_NS,
    TEMPLATE_PATH,
    WAYLINES_PATH,
    WPML_NS,
    DjiAircraft,
    ExportError,
    WpmlOptions,
    to_wpml_kmz,
)
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie, Waypoint, WaypointAction

NS = {"kml": KML_NS, "wpml": WPML_NS}


def _parse(kmz: bytes) -> dict[str, etree._Element]:
    with zipfile.ZipFile(io.BytesIO(kmz)) as z:
        assert sorted(z.namelist()) == [TEMPLATE_PATH, WAYLINES_PATH]
        return {name: etree.fromstring(z.read(name)) for name in z.namelist()}


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path, NS)
    assert found is not None, path
    return str(found.text)


def test_archive_namespaces_and_mission_config(sortie: Sortie, nest: Nest) -> None:
    docs = _parse(to_wpml_kmz(sortie, nest))
    assert WPML_NS.startswith("http://www.dji.com/wpmz/1.0.")
    for root in docs.values():
        assert root.tag == f"{{{KML_NS}}}kml"
        assert root.nsmap["wpml"] == WPML_NS
        cfg = "kml:Document/wpml:missionConfig/wpml:"
        assert _text(root, cfg + "finishAction") == "goHome"
        assert float(_text(root, cfg + "takeOffSecurityHeight")) == 60.0  # the take-off height
        assert float(_text(root, cfg + "globalTransitionalSpeed")) == 12.0
        assert _text(root, cfg + "droneInfo/wpml:droneEnumValue") == "91"
        assert _text(root, cfg + "payloadInfo/wpml:payloadEnumValue") == "80"


def test_waylines_points_heights_and_speeds(sortie: Sortie, nest: Nest) -> None:
    root = _parse(to_wpml_kmz(sortie, nest))[WAYLINES_PATH]
    folder = root.find("kml:Document/kml:Folder", NS)
    assert folder is not None
    assert _text(folder, "wpml:executeHeightMode") == "relativeToStartPoint"
    assert float(_text(folder, "wpml:duration")) == sortie.estimated_duration_s
    assert 1000 < float(_text(folder, "wpml:distance")) < 3000
    marks = folder.findall("kml:Placemark", NS)
    flown = [
        w for w in sortie.waypoints if w.action not in (WaypointAction.TAKEOFF, WaypointAction.LAND)
    ]
    assert len(marks) == len(flown) == 7
    for i, (pm, wp) in enumerate(zip(marks, flown, strict=True)):
        lon, lat = map(float, _text(pm, "kml:Point/kml:coordinates").split(","))
        assert abs(lon - wp.lon) <= 1e-8
        assert abs(lat - wp.lat) <= 1e-8
        assert int(_text(pm, "wpml:index")) == i
        assert float(_text(pm, "wpml:executeHeight")) == wp.alt_m
        assert float(_text(pm, "wpml:waypointSpeed")) == wp.speed_mps


def test_photos_every_trigger_spacing_over_the_survey(sortie: Sortie, nest: Nest) -> None:
    root = _parse(to_wpml_kmz(sortie, nest))[WAYLINES_PATH]
    groups = root.findall(".//wpml:actionGroup", NS)
    by_func = {_text(g, "wpml:action/wpml:actionActuatorFunc"): g for g in groups}
    assert set(by_func) == {"gimbalRotate", "takePhoto", "hover"}
    photo = by_func["takePhoto"]
    assert _text(photo, "wpml:actionTrigger/wpml:actionTriggerType") == "multipleDistance"
    assert float(_text(photo, "wpml:actionTrigger/wpml:actionTriggerParam")) == 41.5
    # survey start is the 2nd flown point (index 1), survey end the 5th (index 4)
    assert (
        _text(photo, "wpml:actionGroupStartIndex"),
        _text(photo, "wpml:actionGroupEndIndex"),
    ) == ("1", "4")
    pitch = ".//wpml:gimbalPitchRotateAngle"
    assert float(_text(by_func["gimbalRotate"], pitch)) == -90.0
    assert [_text(g, "wpml:actionGroupId") for g in groups] == ["0", "1", "2"]


def test_template_heights_are_relative_to_the_nest(sortie: Sortie, nest: Nest) -> None:
    root = _parse(to_wpml_kmz(sortie, nest))[TEMPLATE_PATH]
    folder = root.find("kml:Document/kml:Folder", NS)
    assert folder is not None
    assert _text(folder, "wpml:templateType") == "waypoint"
    assert _text(folder, "wpml:waylineCoordinateSysParam/wpml:heightMode") == (
        "relativeToStartPoint"
    )
    marks = folder.findall("kml:Placemark", NS)
    assert [float(_text(pm, "wpml:height")) for pm in marks] == [100.0] * 5 + [90.0, 60.0]
    assert float(_text(marks[0], "wpml:ellipsoidHeight")) == 100.0 + nest.ground_elevation_m


def test_same_sortie_same_bytes_and_aircraft_option(sortie: Sortie, nest: Nest) -> None:
    assert to_wpml_kmz(sortie, nest) == to_wpml_kmz(sortie, nest)
    kmz = to_wpml_kmz(sortie, nest, options=WpmlOptions(aircraft=DjiAircraft.M30T))
    root = _parse(kmz)[WAYLINES_PATH]
    info = "kml:Document/wpml:missionConfig/wpml:droneInfo/wpml:"
    assert (_text(root, info + "droneEnumValue"), _text(root, info + "droneSubEnumValue")) == (
        "67",
        "1",
    )


def test_take_off_height_below_dji_minimum_is_refused(sortie: Sortie, nest: Nest) -> None:
    sortie.waypoints[0] = replace(sortie.waypoints[0], alt_m=5.0)
    with pytest.raises(ExportError, match=r"takeOffSecurityHeight .* Fix:"):
        to_wpml_kmz(sortie, nest)


def test_a_wayline_needs_two_points(sortie: Sortie, nest: Nest) -> None:
    sortie.waypoints = [sortie.waypoints[0], sortie.waypoints[1], sortie.waypoints[-1]]
    with pytest.raises(ExportError, match="at least 2"):
        to_wpml_kmz(sortie, nest)


_MIDDLE = st.lists(
    st.builds(
        Waypoint,
        lon=st.floats(-180, 180),
        lat=st.floats(-89.9, 89.9),
        alt_m=st.floats(0, 500),
        speed_mps=st.floats(0.5, 20),
        action=st.sampled_from(
            [WaypointAction.TRANSIT, WaypointAction.SURVEY, WaypointAction.LOITER]
        ),
    ),
    min_size=2,
    max_size=15,
)


@settings(max_examples=20, deadline=None)
@given(middle=_MIDDLE, takeoff_m=st.floats(8, 1500))
def test_any_sortie_keeps_points_heights_and_speeds(
    middle: list[Waypoint], takeoff_m: float
) -> None:
    nest = Nest(nest_id="n", lon=middle[0].lon, lat=middle[0].lat)
    takeoff = Waypoint(nest.lon, nest.lat, takeoff_m, 10.0, WaypointAction.TAKEOFF)
    land = Waypoint(nest.lon, nest.lat, 0.0, 2.0, WaypointAction.LAND)
    sortie = Sortie(sortie_id="h", nest_id="n", waypoints=[takeoff, *middle, land])
    root = _parse(to_wpml_kmz(sortie, nest))[WAYLINES_PATH]
    marks = root.findall("kml:Document/kml:Folder/kml:Placemark", NS)
    assert len(marks) == len(middle)
    for pm, wp in zip(marks, middle, strict=True):
        lon, lat = map(float, _text(pm, "kml:Point/kml:coordinates").split(","))
        assert abs(lon - wp.lon) <= 5e-9
        assert abs(lat - wp.lat) <= 5e-9
        assert abs(float(_text(pm, "wpml:executeHeight")) - wp.alt_m) <= 5e-7
        assert abs(float(_text(pm, "wpml:waypointSpeed")) - wp.speed_mps) <= 5e-7
