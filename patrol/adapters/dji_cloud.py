"""A nest that is a DJI dock, driven through the DJI Cloud API over an MQTT broker.

A flight: the sortie becomes a WPML ``.kmz`` (:func:`missions.export.write_export`) served at a
URL (:class:`HttpWaylineServer` on loopback, or ``file://``); ``flighttask_prepare`` hands the
dock that URL and the file's MD5 ``fingerprint`` (or the dock asks for it with
``flighttask_resource_get``), ``flighttask_execute`` launches, and the flight is followed from the
aircraft's OSD (track, battery), ``flighttask_progress`` events (waypoints reached, the task's
end) and ``file_upload_callback`` events (each photo's shoot position and gimbal yaw).
``return_home`` recalls the aircraft. Times are the dock's: every message's ``timestamp`` (ms).

Messages as DJI documents them (Cloud API "wayline management" and "dock properties"; the
field names checked against DJI's cloud-api-demo SDK classes ``FlighttaskProgress``,
``FlighttaskProgressExt``, ``FlighttaskStatusEnum``, ``FlighttaskResourceGetResponse``). A reply
may carry ``data.reason`` text: an extension of :class:`~patrol.sim.dji_dock.SimDjiDock`; a real
dock sends only the numeric ``result``.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from missions.export import ExportFormat, WpmlOptions, write_export
from missions.fleet.profiles import Nest, NestStatus
from missions.planning.sortie import Sortie, WaypointAction
from patrol.adapters._dji_link import (
    DjiLinkError,
    DjiTopics,
    FileWaylineStore,
    HttpWaylineServer,
    Message,
    MqttLink,
    WaylineStore,
    envelope,
)
from patrol.adapters.base import (
    Capture,
    ClosingAdapter,
    FlightLog,
    FlightOutcome,
    NestState,
    RecallCheck,
    TrackPoint,
)
from patrol.adapters.mavlink import NestAdapterError, NestClock, WallClock

__all__ = [
    "DjiCloudConfig",
    "DjiCloudNestAdapter",
    "DjiLinkError",
    "DjiTopics",
    "FileWaylineStore",
    "HttpWaylineServer",
    "Message",
    "MqttLink",
    "WaylineStore",
    "envelope",
]

_TERMINAL = frozenset({"ok", "failed", "canceled", "timeout", "partially_done", "rejected"})
_DOCK_WORKING = 4  # dock OSD mode_code
_CHARGING = 1  # dock OSD drone_charge_state.state
_POLL_S = 0.05


@dataclass(frozen=True)
class DjiCloudConfig:
    """Wall-time bounds and task settings. Defaults suit a real dock on a cellular link."""

    reply_timeout_s: float = 10.0  # no services_reply this long: the dock is offline
    state_timeout_s: float = 3.0  # wait this long for a fresh dock OSD in state()
    silence_timeout_s: float = 60.0  # no message this long in flight: the link is lost
    flight_timeout_s: float | None = None  # None: twice the estimate plus 15 minutes
    media_timeout_s: float = 30.0  # after the task's end: wait for the media still reported
    command_tries: int = 3  # return_home attempts, one per reply_timeout_s
    send_file_in_prepare: bool = True  # False: the dock asks with flighttask_resource_get
    rth_altitude_m: int = 100  # raised to the sortie's highest waypoint when lower
    out_of_control_action: int = 0  # 0: return home, 1: hover, 2: land
    wpml: WpmlOptions = field(default_factory=WpmlOptions)


def _utc_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, UTC)


def _num(value: Any, default: float = math.nan) -> float:
    return float(value) if isinstance(value, int | float) else default


@dataclass
class _Dock:
    """What the cloud knows of the dock and aircraft from their OSD."""

    now_ms: int | None = None
    dock_seen_ms: int | None = None
    mode_code: int | None = None
    drone_in_dock: bool = True
    charging: bool = False
    battery: float | None = None
    wind_mps: float | None = None

    def observe(self, msg: Message, topics: DjiTopics) -> None:
        t = msg.timestamp_ms
        if t is not None:
            self.now_ms = t if self.now_ms is None else max(self.now_ms, t)
        data = msg.data
        if msg.topic == topics.dock_osd:
            self.dock_seen_ms = t
            self.mode_code = int(_num(data.get("mode_code"), -1))
            self.drone_in_dock = bool(data.get("drone_in_dock", 1))
            charge = data.get("drone_charge_state")
            if isinstance(charge, dict):
                self.charging = charge.get("state") == _CHARGING
                pct = _num(charge.get("capacity_percent"))
                if not math.isnan(pct):
                    self.battery = pct / 100.0
            wind = _num(data.get("wind_speed"))
            self.wind_mps = None if math.isnan(wind) else wind
        elif msg.topic == topics.aircraft_osd:
            battery = data.get("battery")
            if isinstance(battery, dict):
                pct = _num(battery.get("capacity_percent"))
                if not math.isnan(pct):
                    self.battery = pct / 100.0


@dataclass
class _Flight:
    """One flight being recorded."""

    log: FlightLog
    flight_id: str
    waypoints: int
    recall: RecallCheck | None
    recalled_at: datetime | None = None
    rth_tid: str = ""
    rth_acked: bool = True
    rth_tries: int = 0
    rth_next_wall: float = 0.0
    status: str = ""
    result: int = 0
    media_count: int = 0
    ended: bool = False

    def record(self, msg: Message, topics: DjiTopics, dock: _Dock) -> None:
        if msg.topic == topics.aircraft_osd:
            self._osd(msg, dock)
        elif msg.topic == topics.events and msg.method == "flighttask_progress":
            self._progress(msg)
        elif msg.topic == topics.events and msg.method == "file_upload_callback":
            self._media(msg)
        elif msg.topic == topics.services_reply and msg.tid == self.rth_tid:
            self.rth_acked = self.rth_acked or msg.result == 0

    def _osd(self, msg: Message, dock: _Dock) -> None:
        t, data = msg.timestamp_ms, msg.data
        lat, lon = _num(data.get("latitude")), _num(data.get("longitude"))
        if t is None or math.isnan(lat) or math.isnan(lon):
            return
        when = _utc_ms(t)
        self.log.track.append(TrackPoint(when, lon, lat, _num(data.get("elevation"), 0.0)))
        self.log.battery_end = dock.battery
        if self.recall is not None and self.recalled_at is None and self.recall(when):
            self.recalled_at, self.rth_acked = when, False

    def _progress(self, msg: Message) -> None:
        output = msg.data.get("output")
        if not isinstance(output, dict):
            return
        raw = output.get("ext")
        ext: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if ext.get("flight_id", self.flight_id) != self.flight_id:
            return
        raw = output.get("progress")
        progress: dict[str, Any] = raw if isinstance(raw, dict) else {}
        index = ext.get("current_waypoint_index", progress.get("current_waypoint_index"))
        reached = self.log.reached
        if isinstance(index, int) and (not reached or index > reached[-1]):
            reached.append(index)
        self.media_count = int(_num(ext.get("media_count"), self.media_count))
        self.status = str(output.get("status", self.status))
        self.result = msg.result
        if self.status in _TERMINAL:
            self.ended = True
            self.log.ended_at = _utc_ms(msg.timestamp_ms) if msg.timestamp_ms else None
            if isinstance(msg.data.get("reason"), str):
                self.log.reason = msg.data["reason"]

    def _media(self, msg: Message) -> None:
        f = msg.data.get("file")
        if not isinstance(f, dict):
            return
        ext, meta = f.get("ext") or {}, f.get("metadata") or {}
        if ext.get("flight_id", self.flight_id) != self.flight_id:
            return
        pos = meta.get("shoot_position") or {}
        created = meta.get("created_time")
        try:
            when = datetime.fromisoformat(str(created))
        except ValueError:
            when = _utc_ms(msg.timestamp_ms or 0)
        self.log.captures.append(
            Capture(
                index=len(self.log.captures),
                t=when.astimezone(UTC),
                lon=_num(pos.get("lng")),
                lat=_num(pos.get("lat")),
                alt_m=_num(meta.get("relative_altitude")),
                heading_deg=_num(meta.get("gimbal_yaw_degree"), 0.0) % 360.0,
            )
        )

    def outcome(self) -> tuple[FlightOutcome, str]:
        if self.status == "ok" and self.waypoints - 1 in self.log.reached:
            return FlightOutcome.COMPLETED, ""
        if self.recalled_at is not None:
            return FlightOutcome.PREEMPTED, f"recalled at {self.recalled_at.isoformat()}"
        why = self.log.reason or f"flighttask ended {self.status!r} (result {self.result})"
        if why.startswith("low battery"):
            return FlightOutcome.LOW_BATTERY, why
        return FlightOutcome.ABORTED, why


class DjiCloudNestAdapter(ClosingAdapter):
    """:class:`~patrol.adapters.base.NestAdapter` for a DJI dock behind an MQTT broker.

    ``clock`` lets :meth:`wait_until` pass time: the wall clock for a real dock, the simulator's
    :class:`~patrol.sim.dji_dock.SimDjiDock` for a simulated one. ``file_server`` is where the
    wayline files are served from; by default a loopback :class:`HttpWaylineServer` the adapter
    owns (a real dock needs a URL it can reach: pass your own store).
    """

    def __init__(
        self,
        nest: Nest,
        *,
        gateway_sn: str,
        device_sn: str,
        broker: tuple[str, int] = ("127.0.0.1", 1883),
        file_server: WaylineStore | None = None,
        clock: NestClock | None = None,
        config: DjiCloudConfig | None = None,
    ) -> None:
        self.nest = nest
        self.topics = DjiTopics(gateway_sn, device_sn)
        self.broker = broker
        self.config = config or DjiCloudConfig()
        self._clock: NestClock = clock or WallClock()
        self._store = file_server
        self._owns_store = file_server is None
        self._link: MqttLink | None = None
        self._dock = _Dock()
        self._files: dict[str, tuple[str, str]] = {}  # flight_id -> (url, md5)

    @property
    def nest_id(self) -> str:
        return self.nest.nest_id

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        if self._store is not None and self._owns_store:
            self._store.close()
            self._store = None

    # --- NestAdapter ---------------------------------------------------------------------------

    def state(self) -> NestState:
        return self._state(None)

    def wait_until(self, when: datetime) -> NestState:
        self._clock.advance_to(when)
        return self._state(int(when.timestamp() * 1000))

    def fly(self, sortie: Sortie, *, recall: RecallCheck | None = None) -> FlightLog:
        """Prepare, execute, follow to the task's end; see :class:`~.base.NestAdapter`."""
        if sortie.nest_id != self.nest_id:
            raise NestAdapterError(
                f"sortie {sortie.sortie_id!r} belongs to nest {sortie.nest_id!r}, not to this "
                f"adapter's {self.nest_id!r}. Fix: fly it with its own nest's adapter."
            )
        link, cfg = self._open(), self.config
        log = FlightLog(sortie.sortie_id, self.nest_id, FlightOutcome.NOT_LAUNCHED)
        flight_id = str(uuid.uuid4())
        url, md5 = self._publish_wayline(sortie, flight_id)
        link.drain()
        top = max((w.alt_m for w in sortie.waypoints), default=0.0)
        prepare: dict[str, Any] = {
            "flight_id": flight_id,
            "execute_time": int(self._clock.now().timestamp() * 1000),
            "task_type": 0,  # immediate
            "wayline_type": 0,
            "rth_altitude": max(cfg.rth_altitude_m, math.ceil(top)),
            "out_of_control_action": cfg.out_of_control_action,
            "exit_wayline_when_rc_lost": 1,
        }
        if cfg.send_file_in_prepare:
            prepare["file"] = {"url": url, "fingerprint": md5}
        reply = self._call("flighttask_prepare", prepare)
        if reply is None or reply.result != 0:
            log.reason = self._refusal("flighttask_prepare", reply)
            return log
        log.battery_start = self._dock.battery
        reply = self._call("flighttask_execute", {"flight_id": flight_id})
        if reply is None or reply.result != 0:
            log.reason = self._refusal("flighttask_execute", reply)
            return log
        log.started_at = _utc_ms(reply.timestamp_ms) if reply.timestamp_ms else None
        ends = (WaypointAction.TAKEOFF, WaypointAction.LAND)
        waypoints = sum(1 for w in sortie.waypoints if w.action not in ends)
        flight = _Flight(log, flight_id, waypoints, recall)
        self._follow(link, flight, sortie)
        return log

    # --- internals -----------------------------------------------------------------------------

    def _open(self) -> MqttLink:
        if self._link is None:
            try:
                link = MqttLink(self.broker, self.topics.gateway_sn)
            except DjiLinkError as e:
                raise NestAdapterError(str(e)) from e
            t = self.topics
            link.subscribe([t.services_reply, t.events, t.requests, t.dock_osd, t.aircraft_osd])
            self._link = link
        return self._link

    def _publish_wayline(self, sortie: Sortie, flight_id: str) -> tuple[str, str]:
        if self._store is None:
            self._store = HttpWaylineServer()
        name = f"{flight_id}.kmz"
        path = write_export(sortie, self.nest, ExportFormat.KMZ, self._store.directory / name)
        md5 = hashlib.md5(path.read_bytes()).hexdigest()  # DJI's fingerprint is MD5
        url = self._store.url(name)
        self._files[flight_id] = (url, md5)
        return url, md5

    def _state(self, at_least_ms: int | None) -> NestState:
        link, d = self._open(), self._dock
        link.drain()
        d.dock_seen_ms = None
        deadline = time.monotonic() + self.config.state_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            self._pump(link, min(left, _POLL_S))
            seen = d.dock_seen_ms
            if seen is not None and (at_least_ms is None or seen >= at_least_ms):
                break
        if d.dock_seen_ms is None:
            return NestState(self.nest_id, NestStatus.OFFLINE, d.battery or 0.0, self._clock.now())
        if d.mode_code == _DOCK_WORKING or not d.drone_in_dock:
            status = NestStatus.FLYING
        else:
            status = NestStatus.CHARGING if d.charging else NestStatus.AVAILABLE
        now = _utc_ms(d.dock_seen_ms)
        return NestState(self.nest_id, status, d.battery or 0.0, now, d.wind_mps)

    def _pump(
        self, link: MqttLink, timeout_s: float, flight: _Flight | None = None
    ) -> Message | None:
        msg = link.get(timeout_s)
        if msg is None:
            return None
        self._dock.observe(msg, self.topics)
        if msg.topic == self.topics.requests and msg.method == "flighttask_resource_get":
            self._answer_resource_get(link, msg)
        elif msg.topic == self.topics.events and msg.payload.get("need_reply") == 1:
            now = msg.timestamp_ms or 0
            link.publish(
                self.topics.events_reply,
                envelope(
                    msg.method,
                    {"result": 0},
                    timestamp_ms=now,
                    tid=msg.tid,
                    bid=str(msg.payload.get("bid", "")),
                ),
            )
        if flight is not None:
            flight.record(msg, self.topics, self._dock)
        return msg

    def _answer_resource_get(self, link: MqttLink, msg: Message) -> None:
        flight_id = str(msg.data.get("flight_id", ""))
        found = self._files.get(flight_id)
        data: dict[str, Any] = {"result": 0 if found else 1}
        if found is not None:
            data["output"] = {"file": {"url": found[0], "fingerprint": found[1]}}
        link.publish(
            self.topics.requests_reply,
            envelope(
                msg.method,
                data,
                timestamp_ms=msg.timestamp_ms or 0,
                tid=msg.tid,
                bid=str(msg.payload.get("bid", "")),
            ),
        )

    def _call(self, method: str, data: dict[str, Any]) -> Message | None:
        """Call a dock service and wait for its services_reply (None: no reply in time)."""
        link = self._open()
        tid = self._send(link, method, data)
        deadline = time.monotonic() + self.config.reply_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            msg = self._pump(link, min(left, _POLL_S))
            if msg is not None and msg.topic == self.topics.services_reply and msg.tid == tid:
                return msg
        return None

    def _send(self, link: MqttLink, method: str, data: dict[str, Any]) -> str:
        now = int(self._clock.now().timestamp() * 1000)
        payload = envelope(method, data, timestamp_ms=now)
        link.publish(self.topics.services, payload)
        return str(payload["tid"])

    def _refusal(self, method: str, reply: Message | None) -> str:
        if reply is None:
            return (
                f"dock offline: no {method} reply on {self.topics.services_reply} within "
                f"{self.config.reply_timeout_s:g} s"
            )
        why = reply.data.get("reason")
        text = f": {why}" if isinstance(why, str) and why else ""
        return f"{method} refused with result {reply.result}{text}"

    def _follow(self, link: MqttLink, flight: _Flight, sortie: Sortie) -> None:
        cfg, log = self.config, flight.log
        bound_s = cfg.flight_timeout_s or 2.0 * sortie.estimated_duration_s + 900.0
        deadline = time.monotonic() + bound_s
        heard = time.monotonic()
        while not flight.ended:
            now = time.monotonic()
            if now > deadline or now - heard > cfg.silence_timeout_s:
                lost = now <= deadline
                log.outcome = FlightOutcome.LINK_LOST if lost else FlightOutcome.ABORTED
                log.reason = (
                    f"no message from dock {self.topics.gateway_sn} for "
                    f"{cfg.silence_timeout_s:g} s (wall clock); its out-of-control action applies"
                    if lost
                    else f"gave up waiting for the flight after {bound_s:g} s (wall clock)"
                )
                return
            self._recall_if_due(link, flight)
            if self._pump(link, _POLL_S, flight) is not None:
                heard = time.monotonic()
        media_deadline = time.monotonic() + cfg.media_timeout_s
        while len(log.captures) < flight.media_count and time.monotonic() < media_deadline:
            self._pump(link, _POLL_S, flight)
        log.outcome, log.reason = flight.outcome()

    def _recall_if_due(self, link: MqttLink, flight: _Flight) -> None:
        if flight.rth_acked or flight.rth_tries >= self.config.command_tries:
            return
        if time.monotonic() >= flight.rth_next_wall:
            flight.rth_tid = self._send(link, "return_home", {})
            flight.rth_tries += 1
            flight.rth_next_wall = time.monotonic() + self.config.reply_timeout_s
