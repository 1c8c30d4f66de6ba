"""Upload a sortie to a vehicle-side implementation this project did not write — MAVSDK's
MissionRawServer plugin, run as an autopilot in its own process — over UDP on loopback, download
it back and compare item by item."""

from __future__ import annotations

import math
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest

from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie
from patrol.mavlink import (
    LinkConfig,
    MavlinkConnectionError,
    MissionItemInt,
    TransferConfig,
    download_mission,
    open_link,
    upload_sortie,
)

VEHICLE = Path(__file__).with_name("mavsdk_vehicle.py")
LINK = LinkConfig(heartbeat_timeout_s=8.0)
TRANSFER = TransferConfig(item_timeout_s=1.0, max_tries=5, total_timeout_s=10.0)

needs_mavsdk = pytest.mark.skipif(
    find_spec("mavsdk") is None,
    reason="mavsdk is not installed, so there is no MAVSDK MissionRawServer to upload to; "
    "install the dev/test dependency with: pip install mavsdk",
)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Vehicle:
    proc: subprocess.Popen[str]

    def stop(self) -> str:
        """Close its stdin (it exits), and return what it printed."""
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out


def _start_vehicle(url: str) -> Vehicle:
    proc = subprocess.Popen(
        [sys.executable, str(VEHICLE), url, "25"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 10
    line = ""
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline().strip()
        if line == "READY":
            return Vehicle(proc)
    proc.kill()
    proc.communicate()
    pytest.fail(f"the MAVSDK vehicle did not start on {url} (last line: {line!r})")


@pytest.fixture(params=["vehicle-listens", "vehicle-sends"])
def vehicle_and_url(request: pytest.FixtureRequest) -> Iterator[tuple[Vehicle, str]]:
    """Both directions of UDP: MAVSDK listening (we send to it), and MAVSDK sending (we listen)."""
    port = _free_udp_port()
    if request.param == "vehicle-listens":
        vehicle, ours = _start_vehicle(f"udpin://127.0.0.1:{port}"), f"udpout:127.0.0.1:{port}"
    else:
        ours = f"udpin:127.0.0.1:{port}"
        vehicle = _start_vehicle(f"udpout://127.0.0.1:{port}")
    try:
        yield vehicle, ours
    finally:
        if vehicle.proc.poll() is None:
            vehicle.stop()


def _f32(value: float) -> float:
    """What a float becomes on the wire (MISSION_ITEM_INT params and z are float32)."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _same_item(sent: MissionItemInt, got: MissionItemInt) -> bool:
    ints = ("seq", "frame", "command", "current", "autocontinue", "x", "y")
    if any(getattr(sent, k) != getattr(got, k) for k in ints):
        return False
    floats = ("param1", "param2", "param3", "param4", "z")
    for k in floats:
        a, b = _f32(getattr(sent, k)), getattr(got, k)
        if not (a == b or (math.isnan(a) and math.isnan(b))):
            return False
    return True


@needs_mavsdk
def test_upload_then_download_matches_item_by_item(
    vehicle_and_url: tuple[Vehicle, str], sortie: Sortie, nest: Nest
) -> None:
    vehicle, url = vehicle_and_url
    sent = upload_sortie(sortie, nest, url, link=LINK, transfer=TRANSFER)
    got = download_mission(url, link=LINK, transfer=TRANSFER)
    assert len(got) == len(sent) == 16
    mismatched = [(s, g) for s, g in zip(sent, got, strict=True) if not _same_item(s, g)]
    assert mismatched == []
    assert {g.frame for g in got} == {2, 5, 6}  # MISSION, GLOBAL_INT (home), RELATIVE_ALT_INT
    assert got[1].x == round(sortie.waypoints[0].lat * 1e7)
    printed = vehicle.stop()
    assert f"INCOMING 1 {len(sent)}" in printed  # 1 = MissionRawServer SUCCESS, all items


def test_no_vehicle_fails_fast_with_a_fix() -> None:
    url = f"udpin:127.0.0.1:{_free_udp_port()}"
    start = time.monotonic()
    with (
        pytest.raises(MavlinkConnectionError, match=r"no vehicle HEARTBEAT .* Fix:"),
        open_link(url, LinkConfig(heartbeat_timeout_s=0.5)),
    ):
        pass
    assert time.monotonic() - start < 3.0
