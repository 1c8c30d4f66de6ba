"""The mission-protocol messages as plain typed values, and the seam (:class:`Link`) between the
protocol logic and the wire: pymavlink lives behind one implementation of it (``_pymavlink``), and
tests can drive the protocol through a fake one without sockets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from missions.export import MavFrame, MissionItem

DEG_E7 = 10_000_000
_INT_FRAME = {
    MavFrame.GLOBAL: MavFrame.GLOBAL_INT,
    MavFrame.GLOBAL_RELATIVE_ALT: MavFrame.GLOBAL_RELATIVE_ALT_INT,
}


class MissionResult(IntEnum):
    """``MAV_MISSION_RESULT``: the vehicle's verdict in MISSION_ACK."""

    ACCEPTED = 0
    ERROR = 1
    UNSUPPORTED_FRAME = 2
    UNSUPPORTED = 3
    NO_SPACE = 4
    INVALID = 5
    INVALID_PARAM1 = 6
    INVALID_PARAM2 = 7
    INVALID_PARAM3 = 8
    INVALID_PARAM4 = 9
    INVALID_PARAM5_X = 10
    INVALID_PARAM6_Y = 11
    INVALID_PARAM7 = 12
    INVALID_SEQUENCE = 13
    DENIED = 14
    OPERATION_CANCELLED = 15

    @classmethod
    def parse(cls, value: int) -> MissionResult:
        """Unknown codes (newer MAVLink) read as a plain ERROR rather than crashing the transfer."""
        try:
            return cls(value)
        except ValueError:
            return cls.ERROR


@dataclass(frozen=True)
class MissionItemInt:
    """One MISSION_ITEM_INT as on the wire: lat/lon in degE7, ``_INT`` global frames."""

    seq: int
    frame: int
    command: int
    current: int
    autocontinue: int
    param1: float
    param2: float
    param3: float
    param4: float
    x: int
    y: int
    z: float


def to_item_int(item: MissionItem) -> MissionItemInt:
    """Convert at the wire's edge: degE7 integers keep centimetre precision everywhere on Earth,
    which float32 MISSION_ITEM latitudes cannot."""
    return MissionItemInt(
        seq=item.seq,
        frame=int(_INT_FRAME.get(item.frame, item.frame)),
        command=int(item.command),
        current=int(item.current),
        autocontinue=int(item.autocontinue),
        param1=item.param1,
        param2=item.param2,
        param3=item.param3,
        param4=item.param4,
        x=round(item.lat_deg * DEG_E7),
        y=round(item.lon_deg * DEG_E7),
        z=item.alt_m,
    )


@dataclass(frozen=True)
class ItemRequest:
    """MISSION_REQUEST_INT (or the legacy MISSION_REQUEST): the vehicle wants item ``seq``."""

    seq: int


@dataclass(frozen=True)
class MissionAck:
    result: MissionResult


@dataclass(frozen=True)
class MissionCount:
    count: int


@dataclass(frozen=True)
class ItemMessage:
    item: MissionItemInt


Incoming = ItemRequest | MissionAck | MissionCount | ItemMessage


class Link(Protocol):
    """A mission-protocol conversation with one vehicle (already identified)."""

    def send_count(self, count: int) -> None: ...

    def send_item(self, item: MissionItemInt) -> None: ...

    def send_request_list(self) -> None: ...

    def send_request(self, seq: int) -> None: ...

    def send_ack(self, result: MissionResult) -> None: ...

    def receive(self, timeout_s: float) -> Incoming | None:
        """The next mission message from the vehicle, or None when ``timeout_s`` passes."""
        ...
