"""The simulated vehicle's MAVLink side over real UDP on loopback, driven by the project's ground
code (patrol.mavlink) and by plain pymavlink: mission upload/download, commands and their acks,
the wind refusal, and a ground that never answers TIMESYNC (the vehicle must not stall)."""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie
from patrol.mavlink import (
    LinkConfig,
    MissionItemInt,
    TransferConfig,
    download_mission,
    upload_sortie,
)
from patrol.sim.mavlink_vehicle import MavlinkVehicle, VehicleConfig
from patrol.sim.vehicle import Phase, SimError

T0 = 1_790_000_000.0
LINK = LinkConfig(heartbeat_timeout_s=3.0)
TRANSFER = TransferConfig(item_timeout_s=0.5, max_tries=5, total_timeout_s=10.0)


@pytest.fixture
def vehicle(survey_nest: Nest) -> Iterator[MavlinkVehicle]:
    v = MavlinkVehicle(survey_nest, start_s=T0, config=VehicleConfig(sync_wait_wall_s=0.05))
    v.start()
    yield v
    v.stop()


def _f32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _same(sent: MissionItemInt, got: MissionItemInt) -> bool:
    ints = ("seq", "frame", "command", "current", "autocontinue", "x", "y")
    if any(getattr(sent, k) != getattr(got, k) for k in ints):
        return False
    for k in ("param1", "param2", "param3", "param4", "z"):
        a, b = _f32(getattr(sent, k)), getattr(got, k)
        if not (a == b or (math.isnan(a) and math.isnan(b))):
            return False
    return True


def test_upload_then_download_is_the_same_mission(
    vehicle: MavlinkVehicle, survey_sortie: Sortie, survey_nest: Nest
) -> None:
    url = f"udpout:127.0.0.1:{vehicle.port}"
    sent = upload_sortie(survey_sortie, survey_nest, url, link=LINK, transfer=TRANSFER)
    got = download_mission(url, link=LINK, transfer=TRANSFER)
    assert len(got) == len(sent) == vehicle.snapshot().mission_items
    assert all(_same(s, g) for s, g in zip(sent, got, strict=True))


class _Ground:
    """A bare pymavlink ground station (deliberately not the adapter)."""

    def __init__(self, port: int) -> None:
        from pymavlink import mavutil

        self.conn: Any = mavutil.mavlink_connection(
            f"udpout:127.0.0.1:{port}", source_system=255, source_component=190
        )
        self.conn.mav.heartbeat_send(6, 8, 0, 0, 4)
        assert self.conn.recv_match(type="HEARTBEAT", blocking=True, timeout=3.0) is not None

    def command(self, command: int, *params: float) -> tuple[int, list[str]]:
        p = [*params, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0][:7]
        self.conn.mav.command_long_send(1, 1, command, 0, *p)
        texts: list[str] = []
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            kinds = ["COMMAND_ACK", "STATUSTEXT"]
            msg = self.conn.recv_match(type=kinds, blocking=True, timeout=0.5)
            if msg is None:
                continue
            if msg.get_type() == "STATUSTEXT":
                texts.append(msg.text)
            elif msg.command == command:
                return int(msg.result), texts
        raise AssertionError(f"no COMMAND_ACK for {command}")

    def close(self) -> None:
        self.conn.close()


def test_wind_refusal_then_a_flight_with_a_ground_that_never_answers_timesync(
    vehicle: MavlinkVehicle, survey_sortie: Sortie, survey_nest: Nest, survey_photos: int
) -> None:
    url = f"udpout:127.0.0.1:{vehicle.port}"
    upload_sortie(survey_sortie, survey_nest, url, link=LINK, transfer=TRANSFER)
    ground = _Ground(vehicle.port)
    try:
        vehicle.set_wind(11.5)
        result, texts = ground.command(300)  # MAV_CMD_MISSION_START
        assert result == 1  # MAV_RESULT_TEMPORARILY_REJECTED
        assert any("wind 11.5 m/s above launch limit" in t for t in texts)
        assert ground.command(512, 9999.0)[0] == 3  # REQUEST_MESSAGE of an unknown id
        vehicle.set_wind(4.0)
        assert ground.command(300)[0] == 0
        with pytest.raises(SimError, match="fast-forward only on the ground"):
            vehicle.advance_to(T0 + 10_000)
        deadline = time.monotonic() + 20.0  # the vehicle stops waiting for TIMESYNC answers
        while vehicle.snapshot().phase is not Phase.GROUNDED and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = vehicle.snapshot()
        assert snap.phase is Phase.GROUNDED
        assert snap.clock_s - T0 == pytest.approx(survey_sortie.estimated_duration_s, rel=0.01)
        assert snap.captures == survey_photos
    finally:
        ground.close()


def test_offline_vehicle_is_silent(vehicle: MavlinkVehicle) -> None:
    vehicle.set_online(False)
    url = f"udpout:127.0.0.1:{vehicle.port}"
    from patrol.mavlink import MavlinkConnectionError, open_link

    start = time.monotonic()
    with (
        pytest.raises(MavlinkConnectionError, match="no vehicle HEARTBEAT"),
        open_link(url, LinkConfig(heartbeat_timeout_s=0.5)),
    ):
        pass
    assert time.monotonic() - start < 2.0
    vehicle.set_online(True)
    with open_link(url, LINK) as link:
        assert link.target_system == 1


def test_control_values_are_checked(vehicle: MavlinkVehicle) -> None:
    with pytest.raises(SimError, match=r"within 0\.\.1"):
        vehicle.set_battery(1.5)
    with pytest.raises(SimError, match="positive"):
        vehicle.set_drain_factor(0.0)
    vehicle.set_battery(0.5)
    vehicle.advance_to(T0 + 900.0)  # half the 30 min charge time: +0.5
    snap = vehicle.snapshot()
    assert snap.battery == pytest.approx(1.0)
    assert snap.clock_s == pytest.approx(T0 + 900.0)
    vehicle.advance_to(T0)  # the past: no-op
    assert vehicle.now_s() == pytest.approx(T0 + 900.0)
