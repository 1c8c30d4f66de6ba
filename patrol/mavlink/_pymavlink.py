"""The only module that touches pymavlink: opens a connection URL, finds the vehicle by its
HEARTBEAT, and turns mission messages into the plain values of ``_messages``.

Every wait here is bounded: pymavlink is only ever asked for a message with a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from patrol.mavlink._errors import MavlinkConnectionError
from patrol.mavlink._messages import (
    Incoming,
    ItemMessage,
    ItemRequest,
    MissionAck,
    MissionCount,
    MissionItemInt,
    MissionResult,
)

MAV_TYPE_GCS = 6
MAV_AUTOPILOT_INVALID = 8
MAV_STATE_ACTIVE = 4
MAV_MISSION_TYPE_MISSION = 0
_HEARTBEAT_PERIOD_S = 1.0
_POLL_S = 0.2
_MISSION_TYPES = [
    "MISSION_REQUEST_INT",
    "MISSION_REQUEST",
    "MISSION_ACK",
    "MISSION_COUNT",
    "MISSION_ITEM_INT",
]


@dataclass(frozen=True)
class LinkConfig:
    """Who we are on the link and which vehicle we talk to.

    ``target_system``/``target_component`` None: the first non-GCS HEARTBEAT heard picks them.
    """

    source_system: int = 255
    source_component: int = 190  # MAV_COMP_ID_MISSIONPLANNER
    target_system: int | None = None
    target_component: int | None = None
    heartbeat_timeout_s: float = 5.0


def _convert(msg: Any) -> Incoming | None:
    kind = msg.get_type()
    if kind in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
        return ItemRequest(seq=int(msg.seq))
    if kind == "MISSION_ACK":
        return MissionAck(result=MissionResult.parse(int(msg.type)))
    if kind == "MISSION_COUNT":
        return MissionCount(count=int(msg.count))
    if kind == "MISSION_ITEM_INT":
        return ItemMessage(item_from_message(msg))
    return None


def item_from_message(msg: Any) -> MissionItemInt:
    """A pymavlink MISSION_ITEM_INT as our typed value (ground and simulated vehicle alike)."""
    return MissionItemInt(
        seq=int(msg.seq),
        frame=int(msg.frame),
        command=int(msg.command),
        current=int(msg.current),
        autocontinue=int(msg.autocontinue),
        param1=float(msg.param1),
        param2=float(msg.param2),
        param3=float(msg.param3),
        param4=float(msg.param4),
        x=int(msg.x),
        y=int(msg.y),
        z=float(msg.z),
    )


class PymavlinkLink:
    """A :class:`~patrol.mavlink._messages.Link` over a pymavlink connection URL."""

    def __init__(self, url: str, config: LinkConfig) -> None:
        from pymavlink import mavutil  # noqa: PLC0415 - deferred: heavy, builds its dialect

        self.url = url
        self._config = config
        try:
            self._conn: Any = mavutil.mavlink_connection(
                url,
                source_system=config.source_system,
                source_component=config.source_component,
            )
        except (OSError, ValueError) as e:
            raise MavlinkConnectionError(
                f"cannot open MAVLink connection {url!r}: {e}. Fix: use a pymavlink URL such "
                "as udpin:127.0.0.1:14550 (listen) or udpout:127.0.0.1:14550 (send), with a "
                "free port for udpin."
            ) from e
        self.target_system = config.target_system or 0
        self.target_component = config.target_component or 0
        self._last_heartbeat = 0.0

    def close(self) -> None:
        self._conn.close()

    def _heartbeat_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat >= _HEARTBEAT_PERIOD_S / 2:
            self._conn.mav.heartbeat_send(
                MAV_TYPE_GCS, MAV_AUTOPILOT_INVALID, 0, 0, MAV_STATE_ACTIVE
            )
            self._last_heartbeat = now

    def _is_wanted_vehicle(self, msg: Any) -> bool:
        cfg = self._config
        if msg.type == MAV_TYPE_GCS or msg.get_srcSystem() == cfg.source_system:
            return False
        if cfg.target_system is not None and msg.get_srcSystem() != cfg.target_system:
            return False
        return cfg.target_component is None or msg.get_srcComponent() == cfg.target_component

    def wait_vehicle(self) -> None:
        """Wait for the vehicle's HEARTBEAT (sending ours, so a listening vehicle learns where we
        are); without it a udpin link has nobody to send to."""
        timeout_s = self._config.heartbeat_timeout_s
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            self._heartbeat_if_due()
            msg = self._conn.recv_match(type="HEARTBEAT", blocking=True, timeout=min(_POLL_S, left))
            if msg is not None and self._is_wanted_vehicle(msg):
                self.target_system = msg.get_srcSystem()
                self.target_component = msg.get_srcComponent()
                return
        raise MavlinkConnectionError(
            f"no vehicle HEARTBEAT on {self.url!r} within {timeout_s} s. Fix: check that the "
            "vehicle (or simulator) is running and sends to this address/port, that udpin/udpout "
            "is the right way round, and the target system/component ids."
        )

    def _to_vehicle(self) -> tuple[int, int]:
        return self.target_system, self.target_component

    def send_count(self, count: int) -> None:
        self._conn.mav.mission_count_send(*self._to_vehicle(), count)

    def send_item(self, item: MissionItemInt) -> None:
        self._conn.mav.mission_item_int_send(
            *self._to_vehicle(),
            item.seq,
            item.frame,
            item.command,
            item.current,
            item.autocontinue,
            item.param1,
            item.param2,
            item.param3,
            item.param4,
            item.x,
            item.y,
            item.z,
        )

    def send_request_list(self) -> None:
        self._conn.mav.mission_request_list_send(*self._to_vehicle())

    def send_request(self, seq: int) -> None:
        self._conn.mav.mission_request_int_send(*self._to_vehicle(), seq)

    def send_ack(self, result: MissionResult) -> None:
        self._conn.mav.mission_ack_send(*self._to_vehicle(), int(result))

    def _is_for_us(self, msg: Any) -> bool:
        if (msg.get_srcSystem(), msg.get_srcComponent()) != self._to_vehicle():
            return False
        if getattr(msg, "mission_type", MAV_MISSION_TYPE_MISSION) != MAV_MISSION_TYPE_MISSION:
            return False
        return getattr(msg, "target_system", 0) in (0, self._config.source_system)

    def receive(self, timeout_s: float) -> Incoming | None:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            self._heartbeat_if_due()
            msg = self._conn.recv_match(
                type=_MISSION_TYPES, blocking=True, timeout=min(_POLL_S, left)
            )
            if msg is not None and self._is_for_us(msg):
                converted = _convert(msg)
                if converted is not None:
                    return converted
        return None


@contextmanager
def open_link(url: str, config: LinkConfig | None = None) -> Iterator[PymavlinkLink]:
    """Open ``url``, wait for the vehicle, and close the connection whatever happens."""
    link = PymavlinkLink(url, config or LinkConfig())
    try:
        link.wait_vehicle()
        yield link
    finally:
        link.close()
