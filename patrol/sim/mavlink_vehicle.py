"""A simulated vehicle that speaks MAVLink 2 over UDP (pymavlink), so a ground station drives it
exactly as it would drive a real autopilot.

It listens on one UDP port and answers whoever talked to it last (a listening autopilot, like
SITL's ``udpin``). It serves the mission protocol (upload and download), ``COMMAND_LONG``
(``MISSION_START``, ``NAV_RETURN_TO_LAUNCH``, ``COMPONENT_ARM_DISARM``, ``REQUEST_MESSAGE``),
and reports ``HEARTBEAT``, ``SYSTEM_TIME`` (its simulated clock), ``GLOBAL_POSITION_INT``,
``MISSION_CURRENT``, ``MISSION_ITEM_REACHED``, ``BATTERY_STATUS`` (+ ``SMART_BATTERY_INFO`` on
request), ``WIND_COV``, ``EXTENDED_SYS_STATE``, ``CAMERA_IMAGE_CAPTURED`` and ``STATUSTEXT``.

Accelerated time without overflowing UDP buffers: in flight the vehicle runs as fast as the
ground keeps up. Every ``sync_every`` messages it sends a ``TIMESYNC`` request, which a ground
station answers (the standard MAVLink time-sync handshake), and it never has more than two
unanswered; a ground that stops answering is waited for ``sync_wait_s`` at a time, then (after
three misses) no longer. ``speedup`` additionally caps simulated seconds per wall second.

The clock stands still on the ground unless :meth:`MavlinkVehicle.advance_to` moves it (the
nest charges meanwhile); it runs while flying, and after a landing until a link loss that began
in flight has ended.
"""

from __future__ import annotations

import contextlib
import math
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from missions.fleet.profiles import Nest
from patrol.mavlink import DEG_E7, MissionItemInt, MissionResult
from patrol.mavlink._pymavlink import item_from_message
from patrol.sim.vehicle import (
    FrameCaptured,
    ItemReached,
    Landed,
    Notice,
    Phase,
    ReturnReason,
    Severity,
    SimError,
    SimVehicle,
    VehicleEvent,
)

__all__ = ["MavlinkVehicle", "VehicleConfig", "VehicleSnapshot"]

_CMD_RTL, _CMD_MISSION_START, _CMD_ARM, _CMD_REQUEST_MESSAGE = 20, 300, 400, 512
_ACCEPTED, _TEMP_REJECTED, _UNSUPPORTED = 0, 1, 3  # MAV_RESULT
_ON_GROUND, _IN_AIR, _TAKEOFF, _LANDING = 1, 2, 3, 4
_MSG_SYSTEM_TIME, _MSG_BATTERY, _MSG_WIND, _MSG_SMART_BATTERY, _MSG_EXT_STATE = (
    2,
    147,
    231,
    370,
    245,
)
_PHASES = list(Phase)
_MAX_DATAGRAM = 65_535
_DATAGRAM_BYTES = 1400  # fits an Ethernet MTU
_BUFFER_BYTES = 1 << 21


@dataclass(frozen=True)
class VehicleConfig:
    """How the simulated vehicle talks and paces itself. Periods are simulated seconds unless
    named ``_wall_``."""

    telemetry_period_s: float = 2.0  # GLOBAL_POSITION_INT in flight
    status_period_s: float = 10.0  # HEARTBEAT, SYSTEM_TIME, BATTERY_STATUS... in flight
    idle_heartbeat_wall_s: float = 0.25  # HEARTBEAT on the ground, wall seconds
    speedup: float | None = None  # at most this many simulated s per wall s; None: no cap
    sync_every: int = 32  # messages between TIMESYNC flow-control requests
    sync_wait_wall_s: float = 0.5  # how long to wait for the ground's TIMESYNC answer
    failsafe_s: float = 5.0  # without a link this long in flight, return home
    capacity_mah: int = 5000  # battery capacity (BATTERY_STATUS.current_consumed resolution)


@dataclass(frozen=True)
class VehicleSnapshot:
    """The simulator's own view of a vehicle (for tests and demos; a controller uses MAVLink)."""

    nest_id: str
    clock_s: float
    phase: Phase
    battery: float
    lat: float
    lon: float
    alt_m: float
    wind_mps: float
    online: bool
    mission_items: int
    captures: int
    messages_sent: int
    messages_received: int


class _Wire:
    """The UDP socket and the pymavlink encoder/decoder; sends go to the last peer heard."""

    def __init__(self, host: str, port: int, system_id: int) -> None:
        from pymavlink.dialects.v20 import common  # noqa: PLC0415 - deferred: heavy import

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER_BYTES)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.mav: Any = common.MAVLink(self, srcSystem=system_id, srcComponent=1)
        self.mav.robust_parsing = True
        self.peer: tuple[str, int] | None = None
        self.enabled = True
        self._out = bytearray()
        self.sent = 0
        self.received = 0

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def write(self, buf: bytes) -> None:
        """pymavlink's send: messages are packed into datagrams of up to ~1400 bytes (as
        autopilots do on UDP), sent at :meth:`flush` or when full; one wake-up of the ground
        per datagram instead of per message."""
        if self.peer is None or not self.enabled:
            return
        if len(self._out) + len(buf) > _DATAGRAM_BYTES:
            self.flush()
        self._out += buf
        self.sent += 1

    def flush(self) -> None:
        if self._out and self.peer is not None:
            # a ground that went away: a lost datagram, as on a radio link
            with contextlib.suppress(OSError):
                self.sock.sendto(bytes(self._out), self.peer)
        self._out.clear()

    def wait(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout_s))
        return bool(ready)

    def read(self) -> list[Any]:
        out: list[Any] = []
        while True:
            try:
                data, addr = self.sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:
                return out
            msgs = self.mav.parse_buffer(data) or []
            good = [m for m in msgs if m.get_type() != "BAD_DATA"]
            if good and self.enabled:
                self.peer = addr
                self.received += len(good)
                out.extend(good)

    def close(self) -> None:
        self.sock.close()


class MavlinkVehicle:
    """One simulated nest's drone on ``udp://host:port`` (port 0: any free port).

    :meth:`start` runs it on a background thread; the control methods are thread-safe.
    """

    def __init__(
        self,
        nest: Nest,
        *,
        start_s: float,
        system_id: int = 1,
        config: VehicleConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config or VehicleConfig()
        self.model = SimVehicle(nest, clock_s=start_s)
        self.boot_s = start_s
        self._wire = _Wire(host, port, system_id)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gcs = (0, 0)
        self._rx: list[MissionItemInt] | None = None
        self._rx_count = 0
        self._next_hb_wall = 0.0
        self._sent_landed = _ON_GROUND
        self._next_pos_s = self._next_status_s = start_s
        self._outstanding: list[int] = []  # TIMESYNC requests the ground has not answered
        self._sync_mark = 0
        self._sync_misses = 0
        self._ground_absent = False
        self._pace_sim0, self._pace_wall0 = start_s, 0.0

    @property
    def port(self) -> int:
        return self._wire.port

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            name = f"sim-vehicle-{self.model.nest.nest_id}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end (returns at once; :meth:`stop` waits and closes)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._wire.close()

    # --- control API (the simulator's, not MAVLink) -----------------------------------------

    def now_s(self) -> float:
        with self._lock:
            return self.model.clock_s

    def advance_to(self, t_s: float) -> None:
        """Fast-forward the clock on the ground (the nest charges); no-op for a past time."""
        with self._lock:
            m = self.model
            if m.flying or m.recovering_link:
                raise SimError(
                    f"nest {m.nest.nest_id} is flying (phase {m.phase}); fast-forward only on "
                    "the ground. Fix: wait for the flight to end (the adapter's fly() returns)."
                )
            if t_s > m.clock_s:
                self._emit(m.advance(t_s - m.clock_s))
                self._wire.flush()

    def set_wind(self, wind_mps: float) -> None:
        with self._lock:
            self.model.wind_mps = wind_mps

    def set_online(self, online: bool) -> None:
        """Offline: silent and deaf (no HEARTBEAT, commands ignored), as a dock losing power."""
        with self._lock:
            self.model.offline = not online

    def set_battery(self, level: float) -> None:
        if not 0.0 <= level <= 1.0:
            raise SimError(f"battery level must be within 0..1 (a fraction), got {level}")
        with self._lock:
            self.model.battery = level

    def set_drain_factor(self, factor: float) -> None:
        if factor <= 0:
            raise SimError(f"drain factor must be positive (1.0 = nominal), got {factor}")
        with self._lock:
            self.model.drain_factor = factor

    def schedule_link_loss(self, at_s: float, duration_s: float) -> None:
        with self._lock:
            self.model.schedule_link_loss(at_s, duration_s, self.config.failsafe_s)

    def snapshot(self) -> VehicleSnapshot:
        with self._lock:
            m = self.model
            return VehicleSnapshot(
                nest_id=m.nest.nest_id,
                clock_s=m.clock_s,
                phase=m.phase,
                battery=m.battery,
                lat=m.lat,
                lon=m.lon,
                alt_m=m.alt_m,
                wind_mps=m.wind_mps,
                online=not m.offline,
                mission_items=len(m.mission),
                captures=m.captures,
                messages_sent=self._wire.sent,
                messages_received=self._wire.received,
            )

    # --- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                m = self.model
                airborne = m.flying or (m.recovering_link and not m.offline)
            if airborne:
                self._fly_tick()
            else:
                self._idle_tick()

    def _idle_tick(self) -> None:
        wait = self._next_hb_wall - time.monotonic()
        if wait > 0:
            self._wire.wait(min(wait, self.config.idle_heartbeat_wall_s))
        with self._lock:
            self._receive()
            if time.monotonic() >= self._next_hb_wall:
                self._heartbeat()
                self._wire.flush()
                self._next_hb_wall = time.monotonic() + self.config.idle_heartbeat_wall_s

    def _fly_tick(self) -> None:
        cfg = self.config
        with self._lock:
            self._receive()
            m = self.model
            target = min(self._next_pos_s, self._next_status_s)
            change = m.next_link_change_s()
            if change is not None:
                target = change if not m.flying else min(target, change)
            self._emit(m.advance(max(target - m.clock_s, 1e-3)))
            self._wire.enabled = m.link_up()
            if not self._wire.enabled:
                self._outstanding.clear()
            if m.flying and m.clock_s >= self._next_pos_s - 1e-6:
                self._position(m.clock_s, m.lat, m.lon, m.alt_m)
                self._next_pos_s = m.clock_s + cfg.telemetry_period_s
            if m.clock_s >= self._next_status_s - 1e-6:
                self._status()
                self._next_status_s = m.clock_s + cfg.status_period_s
            if self._wire.enabled and self._wire.sent - self._sync_mark >= cfg.sync_every:
                self._sync_mark = self._wire.sent
                stamp = time.monotonic_ns()
                self._outstanding.append(stamp)
                self._wire.mav.timesync_send(0, stamp)
            self._wire.flush()
            sim_s = m.clock_s - self._pace_sim0
        self._flow_wait()
        if cfg.speedup:
            self._stop.wait(max(0.0, self._pace_wall0 + sim_s / cfg.speedup - time.monotonic()))

    def _flow_wait(self) -> None:
        """Hold while two TIMESYNC requests are unanswered: the ground is behind."""
        if self._ground_absent or len(self._outstanding) < 2:
            return
        deadline = time.monotonic() + self.config.sync_wait_wall_s
        while len(self._outstanding) >= 2 and (left := deadline - time.monotonic()) > 0:
            if self._stop.is_set():
                return
            if self._wire.wait(min(left, 0.05)):
                with self._lock:
                    self._receive()
        if len(self._outstanding) >= 2:
            self._outstanding.pop(0)
            self._sync_misses += 1
            self._ground_absent = self._sync_misses >= 3

    def _flight_reset(self) -> None:
        now = self.model.clock_s
        self._next_pos_s = now
        self._next_status_s = now
        self._outstanding = []
        self._sync_mark = self._wire.sent
        self._sync_misses = 0
        self._ground_absent = False
        self._pace_sim0, self._pace_wall0 = now, time.monotonic()

    # --- incoming ------------------------------------------------------------------------------

    def _receive(self) -> None:
        self._wire.enabled = self.model.link_up()
        msgs = self._wire.read()
        for msg in msgs:
            if getattr(msg, "target_system", 0) not in (0, self._wire.mav.srcSystem):
                continue
            if getattr(msg, "mission_type", 0) != 0:
                continue
            self._gcs = (msg.get_srcSystem(), msg.get_srcComponent())
            self._handle(msg)
        self._wire.flush()

    def _handle(self, msg: Any) -> None:
        kind = msg.get_type()
        mav = self._wire.mav
        if kind == "TIMESYNC":
            if msg.tc1 == 0:
                mav.timesync_send(round(self.model.clock_s * 1e9), msg.ts1)
            elif msg.ts1 in self._outstanding:
                del self._outstanding[: self._outstanding.index(msg.ts1) + 1]
                self._sync_misses, self._ground_absent = 0, False
        elif kind == "COMMAND_LONG":
            self._command(msg)
        elif kind in ("MISSION_COUNT", "MISSION_ITEM_INT"):
            self._upload(msg)
        elif kind == "MISSION_REQUEST_LIST":
            mav.mission_count_send(*self._gcs, len(self.model.mission))
        elif kind in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
            self._send_item(int(msg.seq))
        elif kind == "MISSION_CLEAR_ALL":
            if self.model.flying:
                mav.mission_ack_send(*self._gcs, int(MissionResult.DENIED))
            else:
                self.model.load_mission([])
                mav.mission_ack_send(*self._gcs, int(MissionResult.ACCEPTED))

    def _upload(self, msg: Any) -> None:
        mav = self._wire.mav
        if msg.get_type() == "MISSION_COUNT":
            if self.model.flying:
                mav.mission_ack_send(*self._gcs, int(MissionResult.DENIED))
                self._statustext("mission upload refused in flight", Severity.WARNING)
                return
            self._rx, self._rx_count = [], int(msg.count)
            if self._rx_count == 0:
                self.model.load_mission([])
                self._rx = None
                mav.mission_ack_send(*self._gcs, int(MissionResult.ACCEPTED))
                return
            mav.mission_request_int_send(*self._gcs, 0)
            return
        if self._rx is None:
            return  # a late duplicate after the transfer ended
        if int(msg.seq) == len(self._rx):
            self._rx.append(item_from_message(msg))
        if len(self._rx) < self._rx_count:
            mav.mission_request_int_send(*self._gcs, len(self._rx))
            return
        self.model.load_mission(self._rx)
        self._rx = None
        mav.mission_ack_send(*self._gcs, int(MissionResult.ACCEPTED))

    def _send_item(self, seq: int) -> None:
        mav, mission = self._wire.mav, self.model.mission
        if not 0 <= seq < len(mission):
            mav.mission_ack_send(*self._gcs, int(MissionResult.INVALID_SEQUENCE))
            return
        i = mission[seq]
        mav.mission_item_int_send(
            *self._gcs,
            i.seq,
            i.frame,
            i.command,
            i.current,
            i.autocontinue,
            i.param1,
            i.param2,
            i.param3,
            i.param4,
            i.x,
            i.y,
            i.z,
        )

    def _command(self, msg: Any) -> None:
        cmd, m = int(msg.command), self.model
        result = _ACCEPTED
        if cmd == _CMD_MISSION_START:
            if not m.flying:
                refusal = m.start_mission()
                if refusal is not None:
                    self._statustext(refusal, Severity.WARNING)
                    result = _TEMP_REJECTED
                else:
                    self._flight_reset()
                    self._statustext("mission started", Severity.INFO)
                    self._status()
        elif cmd == _CMD_RTL:
            self._emit(m.return_home(ReturnReason.RECALL))
        elif cmd == _CMD_REQUEST_MESSAGE:
            result = self._send_requested(int(msg.param1))
        elif cmd != _CMD_ARM:
            result = _UNSUPPORTED
        self._wire.mav.command_ack_send(
            cmd, result, target_system=self._gcs[0], target_component=self._gcs[1]
        )

    def _send_requested(self, msg_id: int) -> int:
        senders = {
            _MSG_SYSTEM_TIME: self._system_time,
            _MSG_BATTERY: self._battery,
            _MSG_WIND: self._wind,
            _MSG_SMART_BATTERY: self._smart_battery,
            _MSG_EXT_STATE: self._ext_state,
        }
        if msg_id not in senders:
            return _UNSUPPORTED
        senders[msg_id]()
        return _ACCEPTED

    # --- outgoing ------------------------------------------------------------------------------

    def _emit(self, events: list[VehicleEvent]) -> None:
        m = self.model
        for e in events:
            self._wire.enabled = m.link_up(e.t_s)
            if isinstance(e, ItemReached):
                self._position(e.t_s, e.lat, e.lon, e.alt_m)
                self._wire.mav.mission_item_reached_send(e.seq)
            elif isinstance(e, FrameCaptured):
                self._capture(e)
            elif isinstance(e, Notice):
                self._statustext(e.text, e.severity)
            elif isinstance(e, Landed):
                self._position(e.t_s, e.lat, e.lon, 0.0)
                self._status()
        self._wire.enabled = m.link_up()

    def _boot_ms(self, t_s: float) -> int:
        return round((t_s - self.boot_s) * 1000) & 0xFFFFFFFF

    def _heartbeat(self) -> None:
        m = self.model
        armed = 128 | 4 if m.flying else 0  # MAV_MODE_FLAG_SAFETY_ARMED | AUTO_ENABLED
        state = 4 if m.flying else 3  # MAV_STATE_ACTIVE | STANDBY
        self._wire.mav.heartbeat_send(2, 0, 1 | armed, _PHASES.index(m.phase), state)

    def _position(self, t_s: float, lat: float, lon: float, alt_m: float) -> None:
        m = self.model
        vn, ve, vu = m.velocity_ne_up if m.flying else (0.0, 0.0, 0.0)
        self._wire.mav.global_position_int_send(
            self._boot_ms(t_s),
            round(lat * DEG_E7),
            round(lon * DEG_E7),
            round((alt_m + m.nest.ground_elevation_m) * 1000),
            round(alt_m * 1000),
            round(vn * 100),
            round(ve * 100),
            round(-vu * 100),
            round(m.heading_deg * 100) % 36000,
        )

    def _system_time(self) -> None:
        t = self.model.clock_s
        self._wire.mav.system_time_send(round(t * 1e6), self._boot_ms(t))

    def _battery(self) -> None:
        m, cap = self.model, self.config.capacity_mah
        charging = not m.flying and m.battery < 1.0
        low = m.battery < m.profile.reserve_fraction
        left_s = round(m.battery / m.drain_per_s)
        self._wire.mav.battery_status_send(
            0,  # id
            0,  # MAV_BATTERY_FUNCTION_UNKNOWN
            1,  # MAV_BATTERY_TYPE_LIPO
            32767,  # temperature unknown
            [65535] * 10,
            -1,  # current unknown
            round((1.0 - m.battery) * cap),  # mAh used since the pack was full
            -1,
            round(m.battery * 100),
            time_remaining=left_s,
            charge_state=7 if charging else (2 if low else 1),  # CHARGING | LOW | OK
        )

    def _smart_battery(self) -> None:
        cap = self.config.capacity_mah
        self._wire.mav.smart_battery_info_send(0, 0, 1, cap, cap, 0, b"", b"sim", 0, 0, 0, 0)

    def _wind(self) -> None:
        m = self.model
        w = m.wind_mps
        self._wire.mav.wind_cov_send(round(m.clock_s * 1e6), w, 0.0, 0.0, 0, 0, 0, 0, 0)

    def _landed_state(self) -> int:
        """``MAV_LANDED_STATE``."""
        return {
            Phase.GROUNDED: _ON_GROUND,
            Phase.LAUNCHING: _TAKEOFF,
            Phase.LANDING: _LANDING,
        }.get(self.model.phase, _IN_AIR)

    def _ext_state(self) -> None:
        self._sent_landed = self._landed_state()
        self._wire.mav.extended_sys_state_send(0, self._sent_landed)

    def _status(self) -> None:
        m = self.model
        self._system_time()
        self._battery()
        self._wire.mav.mission_current_send(
            min(m.current_seq, max(len(m.mission) - 1, 0)), len(m.mission), 3 if m.flying else 2
        )
        landed = self._landed_state()
        if landed != self._sent_landed:  # EXTENDED_SYS_STATE on change (and on request)
            self._ext_state()
        self._heartbeat()  # last: a ground may stop reading at the landed HEARTBEAT

    def _statustext(self, text: str, severity: Severity) -> None:
        self._wire.mav.statustext_send(int(severity), text.encode()[:50])

    def _capture(self, e: FrameCaptured) -> None:
        half = math.radians(e.heading_deg) / 2
        q = [math.cos(half), 0.0, 0.0, math.sin(half)]  # yaw only: the frame's "up" heading
        elev = self.model.nest.ground_elevation_m
        self._wire.mav.camera_image_captured_send(
            self._boot_ms(e.t_s),
            round(e.t_s * 1e6),
            1,
            round(e.lat * DEG_E7),
            round(e.lon * DEG_E7),
            round((e.alt_m + elev) * 1000),
            round(e.alt_m * 1000),
            q,
            e.index,
            1,
            b"",
        )
