"""A simulated DJI dock on an MQTT broker: the DJI Cloud API dock side, flying :class:`SimVehicle`.

It answers ``flighttask_prepare`` (downloads the ``.kmz`` from the given URL — or asks for it
with ``flighttask_resource_get`` when the prepare carries no file — checks the MD5 fingerprint
and converts ``wpmz/waylines.wpml`` into the MAVLink-style items :class:`SimVehicle` flies),
``flighttask_execute`` and ``return_home``; while flying it publishes the aircraft's and the
dock's OSD every ``osd_period_s`` simulated seconds, a ``flighttask_progress`` event per waypoint
reached (and one at the task's end) and a ``file_upload_callback`` per photo. Replies that refuse
carry ``data.reason`` in words besides the ``result`` code (the codes are this simulator's own,
:class:`SimDockResult`, not DJI's table).

Time: the dock's clock runs ``speedup`` times faster than the wall clock while flying; on the
ground it stands still until :meth:`SimDjiDock.advance_to` fast-forwards it (the battery
charges), like :class:`~patrol.sim.nests.SimNest`. The dock runs on one thread of its own beside
paho's network thread; :meth:`SimDjiDock.stop` ends both.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from types import TracebackType
from typing import Any

from missions.export import KML_NS, WAYLINES_PATH, WPML_NS, MavCmd, MavFrame
from missions.fleet.profiles import Nest
from patrol.adapters.dji_cloud import DjiTopics, Message, MqttLink, envelope
from patrol.mavlink import DEG_E7, MissionItemInt
from patrol.sim.vehicle import (
    FrameCaptured,
    ItemReached,
    Landed,
    Notice,
    Phase,
    ReturnReason,
    SimError,
    SimVehicle,
)

__all__ = ["SimDjiDock", "SimDockConfig", "SimDockResult", "wayline_items"]

_log = logging.getLogger(__name__)
_NS = {"kml": KML_NS, "wpml": WPML_NS}
_MODE_CODES = {  # aircraft OSD mode_code
    Phase.GROUNDED: 0,
    Phase.LAUNCHING: 4,
    Phase.MISSION: 5,
    Phase.RETURNING: 9,
    Phase.LANDING: 10,
}
_FINAL_STATUS = {
    None: "ok",
    ReturnReason.RECALL: "canceled",
    ReturnReason.LOW_BATTERY: "failed",
    ReturnReason.LINK_LOST: "failed",
    ReturnReason.MISSION_END: "ok",
}


class SimDockResult(IntEnum):
    """``data.result`` codes of this simulator's refusals (not DJI's error-code table)."""

    OK = 0
    BUSY = 1
    FILE_UNREACHABLE = 2
    FINGERPRINT_MISMATCH = 3
    BAD_WAYLINE = 4
    NOT_PREPARED = 5
    LAUNCH_REFUSED = 6


@dataclass(frozen=True)
class SimDockConfig:
    speedup: float = 500.0  # simulated seconds per wall second, in flight
    osd_period_s: float = 2.0  # simulated; also the flight's integration step
    idle_period_s: float = 0.1  # wall: the OSD period on the ground
    fetch_timeout_s: float = 5.0
    reply_timeout_s: float = 5.0  # for the cloud's requests_reply


class _WaylineError(ValueError):
    pass


@dataclass(frozen=True)
class _Wayline:
    items: list[MissionItemInt]
    index_of: dict[int, int]  # mission item seq -> wayline waypoint index
    waypoints: int


def _text(el: ET.Element, path: str) -> str:
    found = el.findtext(path, namespaces=_NS)
    if found is None:
        raise _WaylineError(f"{WAYLINES_PATH} has no {path}")
    return found


def wayline_items(kmz: bytes, nest: Nest) -> tuple[list[MissionItemInt], dict[int, int]]:
    """The MAVLink-style items :class:`SimVehicle` flies for a WPML ``.kmz``, and which item
    is which wayline waypoint. Raises ValueError for a file that is not a WPML wayline."""
    w = _parse(kmz, nest)
    return w.items, w.index_of


def _parse(kmz: bytes, nest: Nest) -> _Wayline:
    try:
        with zipfile.ZipFile(io.BytesIO(kmz)) as z:
            root = ET.fromstring(z.read(WAYLINES_PATH))
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as e:
        raise _WaylineError(f"not a WPML .kmz with {WAYLINES_PATH}: {e}") from e
    doc = root.find("kml:Document", _NS)
    if doc is None:
        raise _WaylineError(f"{WAYLINES_PATH} has no kml:Document")
    takeoff_m = float(_text(doc, "wpml:missionConfig/wpml:takeOffSecurityHeight"))
    transit = float(_text(doc, "wpml:missionConfig/wpml:globalTransitionalSpeed"))
    finish = _text(doc, "wpml:missionConfig/wpml:finishAction")
    items: list[MissionItemInt] = []
    index_of: dict[int, int] = {}

    def add(cmd: MavCmd, *p: float, at: tuple[float, float, float] | None = None) -> None:
        lat, lon, alt = at or (0.0, 0.0, 0.0)
        frame = MavFrame.GLOBAL_RELATIVE_ALT_INT if at else MavFrame.MISSION
        q = [*p, 0.0, 0.0, 0.0, 0.0][:4]
        items.append(
            MissionItemInt(
                seq=len(items),
                frame=int(frame),
                command=int(cmd),
                current=int(not items),
                autocontinue=1,
                param1=q[0],
                param2=q[1],
                param3=q[2],
                param4=q[3],
                x=round(lat * DEG_E7),
                y=round(lon * DEG_E7),
                z=alt,
            )
        )

    add(MavCmd.NAV_TAKEOFF, at=(nest.lat, nest.lon, takeoff_m))
    add(MavCmd.DO_CHANGE_SPEED, 1.0, transit, -1.0)
    placemarks = doc.findall("kml:Folder/kml:Placemark", _NS)
    camera_until = -1
    for pm in placemarks:
        i = int(_text(pm, "wpml:index"))
        lon, lat = (float(v) for v in _text(pm, "kml:Point/kml:coordinates").split(",")[:2])
        at = (lat, lon, float(_text(pm, "wpml:executeHeight")))
        funcs = pm.findall("wpml:actionGroup", _NS)
        hover = [float(x.text or 0) for x in pm.iterfind(".//wpml:hoverTime", _NS)]
        if hover:
            add(MavCmd.NAV_LOITER_TIME, hover[0], at=at)
        else:
            add(MavCmd.NAV_WAYPOINT, at=at)
        index_of[len(items) - 1] = i
        if camera_until == i:
            add(MavCmd.DO_SET_CAM_TRIGG_DIST, 0.0)
            camera_until = -1
        for group in funcs:
            trigger = group.findtext("wpml:actionTrigger/wpml:actionTriggerType", "", _NS)
            photo = group.find(".//wpml:action[wpml:actionActuatorFunc='takePhoto']", _NS)
            if trigger == "multipleDistance" and photo is not None:
                spacing = float(_text(group, "wpml:actionTrigger/wpml:actionTriggerParam"))
                add(MavCmd.DO_SET_CAM_TRIGG_DIST, spacing, 0.0, 1.0)
                camera_until = int(_text(group, "wpml:actionGroupEndIndex"))
        add(MavCmd.DO_CHANGE_SPEED, 1.0, float(_text(pm, "wpml:waypointSpeed")), -1.0)
    if len(placemarks) < 2:
        raise _WaylineError(f"{WAYLINES_PATH} has {len(placemarks)} placemarks; 2 at least")
    if finish == "goHome":
        add(MavCmd.NAV_RETURN_TO_LAUNCH)
    elif finish == "autoLand":
        add(MavCmd.NAV_LAND, at=(*at[:2], 0.0))
    return _Wayline(items, index_of, len(placemarks))


@dataclass
class _Task:
    flight_id: str
    bid: str
    wayline: _Wayline
    media: int = 0
    reached: int = -1
    reason: str = ""
    osd_due_s: float = 0.0


@dataclass
class _Prepared:
    bid: str
    wayline: _Wayline


@dataclass
class _Knobs:
    online: bool = True
    prepared: dict[str, _Prepared] = field(default_factory=dict)


class SimDjiDock:
    """A DJI dock and its aircraft on ``broker``, its clock starting at ``start``."""

    def __init__(
        self,
        nest: Nest,
        *,
        gateway_sn: str,
        device_sn: str,
        start: datetime,
        broker: tuple[str, int] = ("127.0.0.1", 1883),
        config: SimDockConfig | None = None,
    ) -> None:
        if start.tzinfo is None:
            raise SimError(
                f"start {start.isoformat()} has no timezone. Fix: pass an aware datetime, e.g. "
                "datetime(2026, 5, 1, 2, 0, tzinfo=UTC)."
            )
        self.nest = nest
        self.topics = DjiTopics(gateway_sn, device_sn)
        self.broker = broker
        self.config = config or SimDockConfig()
        self.vehicle = SimVehicle(nest, clock_s=start.timestamp())
        self._lock = threading.RLock()
        self._knobs = _Knobs()
        self._task: _Task | None = None
        self._link: MqttLink | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._deferred: list[Message] = []

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> SimDjiDock:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None:
            return
        link = MqttLink(self.broker, f"simdock-{self.topics.gateway_sn}")
        link.subscribe([self.topics.services, self.topics.requests_reply])
        self._link = link
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-dji-dock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
            self._thread = None
        if self._link is not None:
            self._link.close()
            self._link = None

    # --- simulator knobs (a test bench's, not the dock's) --------------------------------------

    def now(self) -> datetime:
        with self._lock:
            return datetime.fromtimestamp(self.vehicle.clock_s, UTC)

    def advance_to(self, when: datetime) -> None:
        """Fast-forward the clock to ``when`` on the ground (the battery charges)."""
        with self._lock:
            if self.vehicle.flying:
                raise SimError(
                    f"dock {self.topics.gateway_sn} is flying; fast-forward only on the ground"
                )
            dt = when.timestamp() - self.vehicle.clock_s
            if dt > 0:
                self.vehicle.rest(dt)

    def set_wind(self, wind_mps: float) -> None:
        with self._lock:
            self.vehicle.wind_mps = wind_mps

    def set_battery(self, level: float) -> None:
        with self._lock:
            self.vehicle.battery = level

    def set_online(self, online: bool) -> None:
        """Offline: nothing published, every message ignored (a dock without power)."""
        with self._lock:
            self._knobs.online = online

    # --- the dock ------------------------------------------------------------------------------

    def _run(self) -> None:
        """The dock's thread; the one place that catches everything (and logs it)."""
        try:
            self._loop()
        except Exception:
            _log.exception("simulated dock %s stopped", self.topics.gateway_sn)

    def _loop(self) -> None:
        link = self._link
        if link is None:
            return
        next_osd = 0.0
        while not self._stop.is_set():
            flying = self._task is not None
            msg = self._next(link, 0.0 if flying else max(0.0, next_osd - time.monotonic()))
            if msg is not None:
                with self._lock:
                    if self._knobs.online:
                        self._handle(link, msg)
                continue
            if flying:
                with self._lock:
                    self._step(link)
                time.sleep(self.config.osd_period_s / self.config.speedup)
            elif time.monotonic() >= next_osd:
                with self._lock:
                    if self._knobs.online:
                        self._publish_osd(link)
                next_osd = time.monotonic() + self.config.idle_period_s

    def _next(self, link: MqttLink, timeout_s: float) -> Message | None:
        if self._deferred:
            return self._deferred.pop(0)
        return link.get(timeout_s)

    def _ms(self, t_s: float | None = None) -> int:
        return round((self.vehicle.clock_s if t_s is None else t_s) * 1000)

    def _reply(self, link: MqttLink, msg: Message, result: int, reason: str = "") -> None:
        data: dict[str, Any] = {"result": int(result)}
        if reason:
            data["reason"] = reason
        bid = str(msg.payload.get("bid", ""))
        payload = envelope(msg.method, data, timestamp_ms=self._ms(), tid=msg.tid, bid=bid)
        link.publish(self.topics.services_reply, payload)

    def _handle(self, link: MqttLink, msg: Message) -> None:
        if msg.topic != self.topics.services:
            return  # a stray requests_reply
        match msg.method:
            case "flighttask_prepare":
                result, reason = self._prepare(link, msg)
                self._reply(link, msg, result, reason)
            case "flighttask_execute":
                result, reason = self._execute(link, msg)
                self._reply(link, msg, result, reason)
            case "return_home":
                if self.vehicle.flying:
                    self.vehicle.return_home(ReturnReason.RECALL)
                    self._reply(link, msg, SimDockResult.OK)
                else:
                    self._reply(link, msg, SimDockResult.BUSY, "the aircraft is in the dock")
            case _:
                self._reply(link, msg, SimDockResult.BUSY, f"method {msg.method!r} not simulated")

    def _prepare(self, link: MqttLink, msg: Message) -> tuple[int, str]:
        data = msg.data
        flight_id = str(data.get("flight_id", ""))
        if self.vehicle.flying:
            return SimDockResult.BUSY, "the aircraft is flying another task"
        file = data.get("file")
        if not isinstance(file, dict) or not file.get("url"):
            file = self._resource_get(link, flight_id)
            if file is None:
                return SimDockResult.FILE_UNREACHABLE, "no answer to flighttask_resource_get"
        url, fingerprint = str(file.get("url")), str(file.get("fingerprint", ""))
        try:
            with urllib.request.urlopen(url, timeout=self.config.fetch_timeout_s) as r:
                kmz: bytes = r.read()
        except (OSError, ValueError) as e:
            return SimDockResult.FILE_UNREACHABLE, f"cannot download the wayline {url}: {e}"
        md5 = hashlib.md5(kmz).hexdigest()  # DJI's fingerprint is MD5
        if md5 != fingerprint.lower():
            return (
                SimDockResult.FINGERPRINT_MISMATCH,
                f"wayline fingerprint mismatch: file MD5 {md5}, task says {fingerprint}",
            )
        try:
            wayline = _parse(kmz, self.nest)
        except (_WaylineError, ValueError) as e:
            return SimDockResult.BAD_WAYLINE, f"wayline not flyable: {e}"
        self._knobs.prepared[flight_id] = _Prepared(str(msg.payload.get("bid", "")), wayline)
        return SimDockResult.OK, ""

    def _resource_get(self, link: MqttLink, flight_id: str) -> dict[str, Any] | None:
        ask = envelope("flighttask_resource_get", {"flight_id": flight_id}, timestamp_ms=self._ms())
        link.publish(self.topics.requests, {**ask, "gateway": self.topics.gateway_sn})
        deadline = time.monotonic() + self.config.reply_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            got = link.get(left)
            if got is None:
                break
            if got.topic == self.topics.requests_reply and got.tid == ask["tid"]:
                file = got.data.get("output", {}).get("file")
                return file if got.result == 0 and isinstance(file, dict) else None
            self._deferred.append(got)
        return None

    def _execute(self, link: MqttLink, msg: Message) -> tuple[int, str]:
        flight_id = str(msg.data.get("flight_id", ""))
        prepared = self._knobs.prepared.get(flight_id)
        if prepared is None:
            return SimDockResult.NOT_PREPARED, f"flight {flight_id!r} was not prepared"
        if not self.vehicle.flying:
            self.vehicle.load_mission(prepared.wayline.items)
        refused = self.vehicle.start_mission()
        if refused is not None:
            return SimDockResult.LAUNCH_REFUSED, refused
        del self._knobs.prepared[flight_id]
        self._task = _Task(flight_id, prepared.bid, prepared.wayline)
        self._progress(link, "in_progress")
        return SimDockResult.OK, ""

    def _step(self, link: MqttLink) -> None:
        task, v = self._task, self.vehicle
        if task is None:
            return
        for ev in v.advance(self.config.osd_period_s):
            if isinstance(ev, ItemReached) and ev.seq in task.wayline.index_of:
                task.reached = task.wayline.index_of[ev.seq]
                self._progress(link, "in_progress", ev.t_s)
            elif isinstance(ev, FrameCaptured):
                self._media(link, task, ev)
            elif isinstance(ev, Notice) and ev.text.startswith(("low battery", "link lost")):
                task.reason = ev.text
            elif isinstance(ev, Landed):
                self._publish_osd(link)
                self._progress(link, _FINAL_STATUS[v.return_reason], ev.t_s)
                self._task = None
                return
        if self._knobs.online:
            self._publish_osd(link)

    def _progress(self, link: MqttLink, status: str, t_s: float | None = None) -> None:
        task = self._task
        if task is None or not self._knobs.online:
            return
        n = task.wayline.waypoints
        data: dict[str, Any] = {
            "result": 0,
            "output": {
                "ext": {
                    "current_waypoint_index": max(task.reached, 0),
                    "media_count": task.media,
                    "flight_id": task.flight_id,
                    "track_id": task.flight_id,
                },
                "progress": {"current_step": 0, "percent": round(100 * (task.reached + 1) / n)},
                "status": status,
            },
        }
        if task.reason and status != "in_progress":
            data["reason"] = task.reason
        if task.reached < 0:
            del data["output"]["ext"]["current_waypoint_index"]
        payload = envelope("flighttask_progress", data, timestamp_ms=self._ms(t_s), bid=task.bid)
        link.publish(
            self.topics.events, {**payload, "need_reply": 0, "gateway": self.topics.gateway_sn}
        )

    def _media(self, link: MqttLink, task: _Task, ev: FrameCaptured) -> None:
        task.media += 1
        if not self._knobs.online:
            return
        name = f"DJI_{datetime.fromtimestamp(ev.t_s, UTC):%Y%m%d%H%M%S}_{ev.index:04d}_V.jpeg"
        yaw = (ev.heading_deg + 180.0) % 360.0 - 180.0  # DJI: -180..180
        data = {
            "result": 0,
            "file": {
                "object_key": f"{task.flight_id}/{name}",
                "name": name,
                "path": task.flight_id,
                "ext": {
                    "flight_id": task.flight_id,
                    "drone_model_key": "0-91-0",
                    "is_original": True,
                },
                "metadata": {
                    "gimbal_yaw_degree": round(yaw, 1),
                    "absolute_altitude": round(ev.alt_m + self.nest.ground_elevation_m, 3),
                    "relative_altitude": round(ev.alt_m, 3),
                    "created_time": datetime.fromtimestamp(ev.t_s, UTC).isoformat(
                        timespec="milliseconds"
                    ),
                    "shoot_position": {"lat": ev.lat, "lng": ev.lon},
                },
            },
        }
        payload = envelope("file_upload_callback", data, timestamp_ms=self._ms(ev.t_s))
        link.publish(
            self.topics.events, {**payload, "need_reply": 1, "gateway": self.topics.gateway_sn}
        )

    def _publish_osd(self, link: MqttLink) -> None:
        v, now = self.vehicle, self._ms()
        percent = round(v.battery * 100)
        aircraft = {
            "latitude": v.lat,
            "longitude": v.lon,
            "elevation": round(v.alt_m, 3),
            "height": round(v.alt_m + self.nest.ground_elevation_m, 3),
            "attitude_head": round((v.heading_deg + 180.0) % 360.0 - 180.0, 1),
            "mode_code": _MODE_CODES[v.phase],
            "battery": {"capacity_percent": percent},
        }
        dock = {
            "mode_code": 4 if v.flying else 0,
            "drone_in_dock": 0 if v.flying else 1,
            "drone_charge_state": {
                "state": int(not v.flying and v.battery < 1.0),
                "capacity_percent": percent,
            },
            "wind_speed": v.wind_mps,
            "latitude": self.nest.lat,
            "longitude": self.nest.lon,
        }
        for topic, data in ((self.topics.aircraft_osd, aircraft), (self.topics.dock_osd, dock)):
            osd = envelope("", data, timestamp_ms=now, gateway=self.topics.gateway_sn)
            del osd["method"]  # OSD carries no method
            link.publish(topic, osd)
