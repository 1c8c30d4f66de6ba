"""A nest whose drone speaks MAVLink (a real autopilot, or :mod:`patrol.sim`'s simulated one).

One pymavlink link stays open for the adapter's life: the mission goes up with the mission
protocol code of :mod:`patrol.mavlink`, ``MAV_CMD_MISSION_START`` launches it, and the flight is
followed from ``GLOBAL_POSITION_INT``, ``MISSION_ITEM_REACHED``, ``CAMERA_IMAGE_CAPTURED``,
``BATTERY_STATUS`` and ``STATUSTEXT`` until the vehicle reports itself on the ground. Times are
the vehicle's clock: ``SYSTEM_TIME`` gives its boot instant, and every ``time_boot_ms`` after it
is placed on that clock. The adapter answers ``TIMESYNC`` requests, which is what lets a
simulated vehicle run exactly as fast as the ground keeps up.

Every wait is bounded in wall time (:class:`AdapterConfig`); what happens in the air is an
outcome in the :class:`~patrol.adapters.base.FlightLog`, never an exception.
"""

from __future__ import annotations

import math
import select
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from missions.export import MissionOptions, mission_items
from missions.fleet.profiles import Nest, NestStatus
from missions.planning.sortie import Sortie
from patrol.adapters.base import (
    Capture,
    ClosingAdapter,
    FlightLog,
    FlightOutcome,
    NestState,
    RecallCheck,
    TrackPoint,
)
from patrol.errors import PatrolError
from patrol.mavlink import (
    DEG_E7,
    LinkConfig,
    MavlinkConnectionError,
    MavlinkUploadError,
    MissionItemInt,
    PymavlinkLink,
    TransferConfig,
    download_items,
    to_item_int,
    upload_items,
)

__all__ = ["AdapterConfig", "MavlinkNestAdapter", "NestAdapterError", "NestClock", "WallClock"]

_CMD_RTL, _CMD_MISSION_START, _CMD_REQUEST_MESSAGE = 20, 300, 512
_MAV_RESULTS = {0: "ACCEPTED", 1: "TEMPORARILY_REJECTED", 2: "DENIED", 3: "UNSUPPORTED"}
_STATE_MESSAGES = {
    "SYSTEM_TIME": 2,
    "BATTERY_STATUS": 147,
    "WIND_COV": 231,
    "EXTENDED_SYS_STATE": 245,
}
_SMART_BATTERY_INFO = 370
_ON_GROUND = 1
_ARMED = 128
_CHARGING = 7
_WRAP_S = 2**32 / 1000.0  # time_boot_ms wraps after 49.7 days
_POLL_S = 0.1


class NestAdapterError(PatrolError):
    """The adapter cannot work as configured (bad URL, a sortie of another nest)."""


class NestClock(Protocol):
    """The nest's clock: a real nest's is the wall clock; a simulated one's fast-forwards."""

    def now(self) -> datetime: ...

    def advance_to(self, when: datetime) -> None: ...


class WallClock:
    """Real time: waiting means sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance_to(self, when: datetime) -> None:
        time.sleep(max(0.0, (when - self.now()).total_seconds()))


@dataclass(frozen=True)
class AdapterConfig:
    """Wall-time bounds and mission choices. Defaults suit a radio link to a real vehicle."""

    heartbeat_timeout_s: float = 5.0  # no HEARTBEAT this long: the nest is offline
    command_timeout_s: float = 1.0  # per COMMAND_LONG try
    command_tries: int = 5
    request_timeout_s: float = 2.0  # to collect the state (SYSTEM_TIME, BATTERY_STATUS, ...)
    silence_timeout_s: float = 10.0  # no message this long in flight: the link is lost
    link_return_timeout_s: float = 300.0  # wait this long for a lost vehicle, then ABORTED
    link_gap_s: float = 10.0  # a gap this long in the vehicle's clock is a link loss too
    flight_timeout_s: float | None = None  # None: twice the estimate plus 15 minutes
    transfer: TransferConfig = field(default_factory=TransferConfig)
    options: MissionOptions = field(default_factory=MissionOptions)


class _Link(PymavlinkLink):
    """The mission-protocol link plus what flying needs: any message, commands, time sync.

    Telemetry is read straight from the UDP socket and decoded with the link's own pymavlink
    parser (a whole datagram at a time), skipping mavutil's per-message bookkeeping: that
    halves the ground's cost per message, which is most of a simulated flight's wall time.
    """

    def __init__(self, url: str, config: LinkConfig) -> None:
        super().__init__(url, config)
        sock = getattr(self._conn, "port", None)
        self._sock = sock if isinstance(sock, socket.socket) else None
        if self._sock is not None:  # UDP: room for bursts while we record
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self._pending: deque[Any] = deque()

    def next_message(self, timeout_s: float) -> Any | None:
        """The next message from the vehicle, or None after ``timeout_s`` of nothing."""
        self._heartbeat_if_due()
        if not self._pending:
            self._fill(timeout_s)
        vehicle = self._to_vehicle()
        while self._pending:
            msg = self._pending.popleft()
            if (
                msg.get_type() != "BAD_DATA"
                and (
                    msg.get_srcSystem(),
                    msg.get_srcComponent(),
                )
                == vehicle
            ):
                return msg
        return None

    def _fill(self, timeout_s: float) -> None:
        sock, conn = self._sock, self._conn
        if sock is None or conn.WIRE_PROTOCOL_VERSION != "2.0":  # serial, or not yet MAVLink 2
            msg = conn.recv_match(blocking=True, timeout=max(timeout_s, 0.001))
            if msg is not None:
                self._pending.append(msg)
            return
        if not select.select([sock], [], [], max(timeout_s, 0.0))[0]:
            return
        while True:
            try:
                data = sock.recv(65_535)
            except (BlockingIOError, InterruptedError):
                return
            self._pending.extend(conn.mav.parse_buffer(data) or ())

    def drain(self) -> None:
        self._pending.clear()
        if self._sock is not None and self._conn.WIRE_PROTOCOL_VERSION == "2.0":
            self._fill(0.0)
            self._pending.clear()
            return
        while self._conn.recv_match(blocking=False) is not None:
            pass

    def command(self, command: int, *params: float, confirmation: int = 0) -> None:
        p = [*params, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0][:7]
        self._conn.mav.command_long_send(*self._to_vehicle(), command, confirmation, *p)

    def answer_timesync(self, ts1: int) -> None:
        self._conn.mav.timesync_send(max(time.time_ns(), 1), ts1)


@dataclass
class _Vehicle:
    """What the ground knows of the vehicle, from its messages; times on the vehicle's clock."""

    epoch_s: float | None = None  # its boot instant: SYSTEM_TIME minus time_boot_ms
    now_s: float | None = None
    battery: float | None = None
    capacity_mah: int | None = None
    charging: bool = False
    wind_mps: float | None = None
    armed: bool = False
    landed_state: int = 0
    text: str = ""  # the last STATUSTEXT
    seen: set[str] = field(default_factory=set)

    def boot_time(self, boot_ms: int) -> float | None:
        if self.epoch_s is None:
            return None
        t = self.epoch_s + boot_ms / 1000.0
        if self.now_s is not None:
            t += round((self.now_s - t) / _WRAP_S) * _WRAP_S  # unwrap time_boot_ms
        return t

    def observe(self, msg: Any) -> float | None:
        """Update from ``msg``; returns the vehicle time it carries, if any."""
        kind = msg.get_type()
        self.seen.add(kind)
        t: float | None = None
        if kind == "SYSTEM_TIME" and msg.time_unix_usec > 0:
            t = msg.time_unix_usec / 1e6
            self.epoch_s = t - msg.time_boot_ms / 1000.0
        elif kind in ("GLOBAL_POSITION_INT", "CAMERA_IMAGE_CAPTURED"):
            t = self.boot_time(int(msg.time_boot_ms))
        elif kind == "HEARTBEAT":
            self.armed = bool(msg.base_mode & _ARMED)
        elif kind == "EXTENDED_SYS_STATE":
            self.landed_state = int(msg.landed_state)
        elif kind == "BATTERY_STATUS":
            self._battery(msg)
        elif kind == "SMART_BATTERY_INFO" and msg.capacity_full > 0:
            self.capacity_mah = int(msg.capacity_full)
        elif kind == "WIND_COV":
            self.wind_mps = math.hypot(msg.wind_x, msg.wind_y)
        elif kind == "STATUSTEXT":
            self.text = _text(msg.text)
        if t is not None:
            self.now_s = t if self.now_s is None else max(self.now_s, t)
        return t

    def _battery(self, msg: Any) -> None:
        self.charging = int(getattr(msg, "charge_state", 0)) == _CHARGING
        if self.capacity_mah and msg.current_consumed >= 0:
            self.battery = max(0.0, 1.0 - msg.current_consumed / self.capacity_mah)
        elif msg.battery_remaining >= 0:
            self.battery = msg.battery_remaining / 100.0


def _text(raw: Any) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return str(raw).rstrip("\x00").strip()


def _utc(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


@dataclass
class _Flight:
    """One flight being recorded."""

    log: FlightLog
    last_seq: int
    recall: RecallCheck | None
    gap_s: float
    recalled_at: datetime | None = None
    low_battery: str = ""
    link_lost: str = ""
    last_t: float | None = None
    landed: bool = False
    rtl_tries: int = 0
    rtl_acked: bool = True
    rtl_next_wall: float = 0.0
    capture_ids: set[int] = field(default_factory=set)

    def record(self, msg: Any, t: float | None, vehicle: _Vehicle) -> None:
        kind, log = msg.get_type(), self.log
        if t is not None and self.last_t is not None and t - self.last_t > self.gap_s:
            self.link_lost = self.link_lost or (
                f"no telemetry for {t - self.last_t:.0f} s from {_utc(self.last_t):%H:%M:%S}"
            )
        if t is not None:
            self.last_t = t if self.last_t is None else max(self.last_t, t)
        if kind == "GLOBAL_POSITION_INT" and t is not None:
            lat, lon = msg.lat / DEG_E7, msg.lon / DEG_E7
            log.track.append(TrackPoint(_utc(t), lon, lat, msg.relative_alt / 1000.0))
            if self.recall is not None and self.recalled_at is None and self.recall(_utc(t)):
                self.recalled_at, self.rtl_acked = _utc(t), False
        elif kind == "MISSION_ITEM_REACHED":
            log.reached.append(int(msg.seq))
        elif kind == "CAMERA_IMAGE_CAPTURED" and msg.image_index not in self.capture_ids:
            self._capture(msg)
        elif kind == "STATUSTEXT":
            text = vehicle.text
            if text.startswith("low battery"):
                self.low_battery = self.low_battery or text
            elif text.startswith("link lost"):
                self.link_lost = text
        elif kind == "COMMAND_ACK" and msg.command == _CMD_RTL:
            self.rtl_acked = True
        elif (kind == "EXTENDED_SYS_STATE" and msg.landed_state == _ON_GROUND) or (
            kind == "HEARTBEAT" and not vehicle.armed
        ):
            self.landed = True
            vehicle.armed, vehicle.landed_state = False, _ON_GROUND

    def _capture(self, msg: Any) -> None:
        self.capture_ids.add(int(msg.image_index))
        w, _, _, z = (float(v) for v in msg.q)
        heading = math.degrees(2.0 * math.atan2(z, w)) % 360.0
        self.log.captures.append(
            Capture(
                index=int(msg.image_index),
                t=_utc(msg.time_utc / 1e6),
                lon=msg.lon / DEG_E7,
                lat=msg.lat / DEG_E7,
                alt_m=msg.relative_alt / 1000.0,
                heading_deg=heading,
            )
        )

    def outcome(self, fallback: str) -> tuple[FlightOutcome, str]:
        if self.last_seq in self.log.reached:
            return FlightOutcome.COMPLETED, ""
        if self.recalled_at is not None:
            return FlightOutcome.PREEMPTED, f"recalled at {self.recalled_at.isoformat()}"
        if self.low_battery:
            return FlightOutcome.LOW_BATTERY, self.low_battery
        if self.link_lost:
            return FlightOutcome.LINK_LOST, self.link_lost
        return FlightOutcome.ABORTED, fallback or "landed before the mission's last item"


class MavlinkNestAdapter(ClosingAdapter):
    """:class:`~patrol.adapters.base.NestAdapter` for a nest reached by a pymavlink URL.

    ``clock`` is how :meth:`wait_until` lets time pass: the wall clock for a real nest, the
    simulator's :class:`~patrol.sim.nests.SimNest` for a simulated one.
    """

    def __init__(
        self,
        nest: Nest,
        url: str,
        *,
        clock: NestClock | None = None,
        config: AdapterConfig | None = None,
    ) -> None:
        self.nest = nest
        self.url = url
        self.config = config or AdapterConfig()
        self._clock: NestClock = clock or WallClock()
        self._link: _Link | None = None
        self._identified = False
        self._vehicle = _Vehicle()

    @property
    def nest_id(self) -> str:
        return self.nest.nest_id

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
            self._identified = False

    # --- NestAdapter ---------------------------------------------------------------------------

    def state(self) -> NestState:
        link = self._reach()
        v = self._vehicle
        if link is not None:
            self._refresh(link)
        now = _utc(v.now_s) if v.now_s is not None and link is not None else self._clock.now()
        if link is None:
            status = NestStatus.OFFLINE
        elif v.landed_state != _ON_GROUND if v.landed_state else v.armed:
            status = NestStatus.FLYING
        else:
            status = NestStatus.CHARGING if v.charging else NestStatus.AVAILABLE
        battery = v.battery if v.battery is not None else 0.0
        return NestState(self.nest_id, status, battery, now, v.wind_mps)

    def wait_until(self, when: datetime) -> NestState:
        self._clock.advance_to(when)
        return self.state()

    def fly(self, sortie: Sortie, *, recall: RecallCheck | None = None) -> FlightLog:
        """Upload, launch, follow to the landing; see :class:`~patrol.adapters.base.NestAdapter`."""
        if sortie.nest_id != self.nest_id:
            raise NestAdapterError(
                f"sortie {sortie.sortie_id!r} belongs to nest {sortie.nest_id!r}, not to this "
                f"adapter's {self.nest_id!r}. Fix: fly it with its own nest's adapter."
            )
        log = FlightLog(sortie.sortie_id, self.nest_id, FlightOutcome.NOT_LAUNCHED)
        link = self._reach()
        if link is None:
            log.reason = (
                f"nest offline: no HEARTBEAT on {self.url} within "
                f"{self.config.heartbeat_timeout_s:g} s"
            )
            return log
        self._refresh(link)
        log.battery_start = self._vehicle.battery
        items = [to_item_int(i) for i in mission_items(sortie, self.nest, self.config.options)]
        try:
            upload_items(link, items, config=self.config.transfer, url=self.url)
        except MavlinkUploadError as e:
            log.reason = f"mission upload failed: {e}"
            return log
        self._vehicle.text = ""
        result = self._command(link, _CMD_MISSION_START, 0.0, 0.0)
        if result != 0:
            what = "no answer" if result is None else _MAV_RESULTS.get(result, str(result))
            log.reason = self._vehicle.text or f"MISSION_START refused: {what}"
            return log
        now = self._vehicle.now_s
        log.started_at = _utc(now) if now is not None else None
        flight = _Flight(log, len(items) - 1, recall, self.config.link_gap_s)
        self._follow(link, flight, sortie)
        return log

    # --- extras ----------------------------------------------------------------------------

    def download(self) -> list[MissionItemInt]:
        """The mission the vehicle holds now (to check an upload)."""
        link = self._reach()
        if link is None:
            raise NestAdapterError(
                f"nest {self.nest_id} is offline (no HEARTBEAT on {self.url}); cannot download"
            )
        return download_items(link, config=self.config.transfer, url=self.url)

    # --- internals -----------------------------------------------------------------------------

    def _reach(self) -> _Link | None:
        """The open link after a fresh HEARTBEAT, or None when the vehicle is not heard."""
        cfg = self.config
        if self._link is None:
            try:
                self._link = _Link(
                    self.url, LinkConfig(heartbeat_timeout_s=cfg.heartbeat_timeout_s)
                )
            except MavlinkConnectionError as e:
                raise NestAdapterError(str(e)) from e
        link = self._link
        if not self._identified:
            try:
                link.wait_vehicle()
            except MavlinkConnectionError:
                return None
            self._identified = True
            return link
        link.drain()  # stale messages prove nothing; a fresh one (HEARTBEAT or answer) does
        deadline = time.monotonic() + cfg.heartbeat_timeout_s
        asked = 0.0
        while (left := deadline - time.monotonic()) > 0:
            if time.monotonic() - asked > cfg.command_timeout_s:
                link.command(_CMD_REQUEST_MESSAGE, float(_STATE_MESSAGES["SYSTEM_TIME"]))
                asked = time.monotonic()
            if self._pump(link, min(left, _POLL_S)) is not None:
                return link
        return None

    def _pump(self, link: _Link, timeout_s: float, flight: _Flight | None = None) -> Any | None:
        msg = link.next_message(timeout_s)
        if msg is None:
            return None
        if msg.get_type() == "TIMESYNC" and msg.tc1 == 0:
            link.answer_timesync(int(msg.ts1))
            return msg
        t = self._vehicle.observe(msg)
        if flight is not None:
            flight.record(msg, t, self._vehicle)
        return msg

    def _refresh(self, link: _Link) -> None:
        """Ask for the vehicle's clock, battery and wind (MAV_CMD_REQUEST_MESSAGE)."""
        v = self._vehicle
        wanted = dict(_STATE_MESSAGES)
        if v.capacity_mah is None:
            wanted["SMART_BATTERY_INFO"] = _SMART_BATTERY_INFO
        for _ in range(2):
            v.seen.clear()
            for msg_id in wanted.values():
                link.command(_CMD_REQUEST_MESSAGE, float(msg_id))
            deadline = time.monotonic() + self.config.request_timeout_s / 2
            while not set(wanted) <= v.seen and (left := deadline - time.monotonic()) > 0:
                self._pump(link, min(left, _POLL_S))
            if set(wanted) <= v.seen:
                return

    def _command(self, link: _Link, command: int, *params: float) -> int | None:
        """Send COMMAND_LONG until its COMMAND_ACK; the MAV_RESULT, or None on silence."""
        cfg = self.config
        for attempt in range(cfg.command_tries):
            link.command(command, *params, confirmation=attempt)
            deadline = time.monotonic() + cfg.command_timeout_s
            while (left := deadline - time.monotonic()) > 0:
                msg = self._pump(link, min(left, _POLL_S))
                if msg is not None and msg.get_type() == "COMMAND_ACK" and msg.command == command:
                    return int(msg.result)
        return None

    def _follow(self, link: _Link, flight: _Flight, sortie: Sortie) -> None:
        cfg, log, v = self.config, flight.log, self._vehicle
        bound_s = cfg.flight_timeout_s or 2.0 * sortie.estimated_duration_s + 900.0
        deadline = time.monotonic() + bound_s
        heard = time.monotonic()
        while not flight.landed:
            now = time.monotonic()
            if now > deadline or now - heard > cfg.link_return_timeout_s:
                why = "the flight" if now > deadline else "the vehicle to be heard again"
                waited = bound_s if now > deadline else cfg.link_return_timeout_s
                log.outcome = FlightOutcome.ABORTED
                log.reason = f"gave up waiting for {why} after {waited:g} s (wall clock)"
                log.battery_end = v.battery
                return
            if now - heard > cfg.silence_timeout_s and not flight.link_lost:
                flight.link_lost = f"no message for {cfg.silence_timeout_s:g} s (wall clock)"
            self._recall_if_due(link, flight)
            if self._pump(link, _POLL_S, flight) is not None:
                heard = time.monotonic()
        log.ended_at = _utc(v.now_s) if v.now_s is not None else None
        log.battery_end = v.battery
        log.outcome, log.reason = flight.outcome(v.text)

    def _recall_if_due(self, link: _Link, flight: _Flight) -> None:
        if flight.rtl_acked or flight.rtl_tries >= self.config.command_tries:
            return
        if time.monotonic() >= flight.rtl_next_wall:
            link.command(_CMD_RTL, confirmation=flight.rtl_tries)
            flight.rtl_tries += 1
            flight.rtl_next_wall = time.monotonic() + self.config.command_timeout_s
