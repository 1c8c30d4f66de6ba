"""DJI Cloud API over MQTT, the parts a cloud and a dock share: topics, envelopes, one client,
and where wayline files are served from.

Topics and envelopes follow DJI's Cloud API (dock "thing model"): the cloud calls a service on
``thing/product/{gateway_sn}/services`` with ``{tid, bid, timestamp, method, data}`` and the dock
answers on ``services_reply`` with ``data.result`` (0: success); the dock reports on ``events``
(``need_reply``: the cloud answers on ``events_reply``), asks on ``requests`` (answered on
``requests_reply``) and streams telemetry on ``thing/product/{sn}/osd`` (dock and aircraft each
under its own serial).
"""

from __future__ import annotations

import json
import queue
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from patrol.errors import PatrolError

__all__ = [
    "DjiLinkError",
    "DjiTopics",
    "FileWaylineStore",
    "HttpWaylineServer",
    "Message",
    "MqttLink",
    "WaylineStore",
    "envelope",
]

Json = dict[str, Any]


class DjiLinkError(PatrolError):
    """The MQTT broker cannot be reached or refuses the client."""


@dataclass(frozen=True)
class DjiTopics:
    """The topics of one dock (``gateway_sn``) and its aircraft (``device_sn``)."""

    gateway_sn: str
    device_sn: str

    def _of(self, suffix: str) -> str:
        return f"thing/product/{self.gateway_sn}/{suffix}"

    @property
    def services(self) -> str:
        return self._of("services")

    @property
    def services_reply(self) -> str:
        return self._of("services_reply")

    @property
    def events(self) -> str:
        return self._of("events")

    @property
    def events_reply(self) -> str:
        return self._of("events_reply")

    @property
    def requests(self) -> str:
        return self._of("requests")

    @property
    def requests_reply(self) -> str:
        return self._of("requests_reply")

    @property
    def dock_osd(self) -> str:
        return self._of("osd")

    @property
    def aircraft_osd(self) -> str:
        return f"thing/product/{self.device_sn}/osd"


@dataclass(frozen=True)
class Message:
    """One received message: its topic and decoded JSON payload."""

    topic: str
    payload: Json

    @property
    def method(self) -> str:
        return str(self.payload.get("method", ""))

    @property
    def tid(self) -> str:
        return str(self.payload.get("tid", ""))

    @property
    def data(self) -> Json:
        data = self.payload.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def timestamp_ms(self) -> int | None:
        t = self.payload.get("timestamp")
        return int(t) if isinstance(t, int | float) else None

    @property
    def result(self) -> int:
        """``data.result`` of a reply; -1 when missing."""
        r = self.data.get("result")
        return int(r) if isinstance(r, int | float) else -1


def envelope(
    method: str,
    data: Json,
    *,
    timestamp_ms: int,
    tid: str | None = None,
    bid: str | None = None,
    **extra: Any,
) -> Json:
    """The Cloud API message frame; a fresh ``tid`` (transaction) and ``bid`` unless given."""
    return {
        "tid": tid or str(uuid.uuid4()),
        "bid": bid or str(uuid.uuid4()),
        "timestamp": timestamp_ms,
        "method": method,
        "data": data,
        **extra,
    }


class MqttLink:
    """One paho client on its network thread; received messages wait in a queue for the owner.

    Everything is QoS 1, so a message is neither lost nor reordered on the way through the broker.
    """

    def __init__(self, broker: tuple[str, int], name: str, *, timeout_s: float = 5.0) -> None:
        self.broker = broker
        self._timeout_s = timeout_s
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._cond = threading.Condition()
        self._connected = False
        self._refused = ""
        self._pending_subs: set[int] = set()
        client_id = f"nestpatrol-{name}-{uuid.uuid4().hex[:8]}"
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        host, port = broker
        try:
            self._client.connect(host, port, keepalive=30)
        except OSError as e:
            raise DjiLinkError(
                f"cannot reach the MQTT broker at {host}:{port}: {e}. Fix: start the broker "
                "(e.g. `mosquitto -p 1883`) or pass the right broker=(host, port)."
            ) from e
        self._client.loop_start()
        with self._cond:
            self._cond.wait_for(lambda: self._connected or bool(self._refused), timeout_s)
        if not self._connected:
            self.close()
            why = self._refused or f"no CONNACK within {timeout_s:g} s"
            raise DjiLinkError(
                f"the MQTT broker at {host}:{port} did not accept the client: {why}. "
                "Fix: check the broker's listener and access settings."
            )

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._cond:
            if reason_code.is_failure:
                self._refused = str(reason_code)
            else:
                self._connected = True
            self._cond.notify_all()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._cond:
            self._pending_subs.discard(mid)
            self._cond.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            return  # not JSON: not a Cloud API message
        if isinstance(payload, dict):
            self._inbox.put(Message(msg.topic, payload))

    def subscribe(self, topics: list[str]) -> None:
        """Subscribe and wait for the SUBACK, so nothing published after this is missed."""
        with self._cond:
            rc, mid = self._client.subscribe([(t, 1) for t in topics])
            if mid is None:
                raise DjiLinkError(
                    f"cannot subscribe to {topics} on {self.broker[0]}:{self.broker[1]} "
                    f"(paho error {rc}). Fix: check the broker connection."
                )
            self._pending_subs.add(mid)
            done = self._cond.wait_for(lambda: mid not in self._pending_subs, self._timeout_s)
        if not done:
            raise DjiLinkError(
                f"the MQTT broker at {self.broker[0]}:{self.broker[1]} did not acknowledge the "
                f"subscription to {topics} within {self._timeout_s:g} s. Fix: check its ACLs."
            )

    def publish(self, topic: str, payload: Json) -> None:
        self._client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1)

    def get(self, timeout_s: float) -> Message | None:
        """The next received message, or None after ``timeout_s`` without one."""
        try:
            if timeout_s <= 0:
                return self._inbox.get_nowait()
            return self._inbox.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def drain(self) -> None:
        while self.get(0.0) is not None:
            pass

    def close(self) -> None:
        """Flush what is queued for sending (briefly), then disconnect and stop the thread."""
        deadline = time.monotonic() + 1.0
        while self._client.want_write() and time.monotonic() < deadline:
            time.sleep(0.01)
        self._client.disconnect()
        self._client.loop_stop()


class WaylineStore(Protocol):
    """Where the adapter writes a wayline file and the URL the dock downloads it from."""

    @property
    def directory(self) -> Path: ...

    def url(self, name: str) -> str: ...

    def close(self) -> None: ...


class FileWaylineStore:
    """``file://`` URLs: for a dock (or simulator) that shares this machine's disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def url(self, name: str) -> str:
        return (self.directory / name).resolve().as_uri()

    def close(self) -> None:
        pass


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpWaylineServer:
    """A small HTTP file server on a thread (stdlib); ``host`` 127.0.0.1 keeps it on loopback."""

    def __init__(self, directory: Path | None = None, *, host: str = "127.0.0.1") -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="waylines-") if directory is None else None
        self.directory = Path(self._tmp.name) if self._tmp is not None else directory or Path()
        handler = partial(_QuietHandler, directory=str(self.directory))
        self._server = ThreadingHTTPServer((host, 0), handler)
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="wayline-http", daemon=True
        )
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)
        if self._tmp is not None:
            self._tmp.cleanup()
