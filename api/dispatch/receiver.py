"""A reference webhook receiver on loopback: verifies, dedupes on ``webhook-id``, counts.

It is what a dispatch system is expected to do with our webhooks, runnable in-process for the
reliability test, the benchmark and demos. A ``chaos`` hook decides per request whether to
answer normally, fail, or stall, so delivery can be tested against a misbehaving peer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from api.dispatch.signing import verify
from api.errors import SignatureError

__all__ = ["Chaos", "LoopbackReceiver", "ReceiverCounts"]


class Chaos(StrEnum):
    OK = "ok"
    FAIL = "fail"  # 500, nothing processed
    STALL = "stall"  # sleep past the sender's timeout, then process (the sender never knows)


@dataclass
class ReceiverCounts:
    requests: int = 0
    failed: int = 0
    stalled: int = 0
    bad_signature: int = 0
    duplicates: int = 0
    processed: Counter[str] = field(default_factory=Counter)


class LoopbackReceiver:
    """``start()``/``stop()`` (repeatable, same port: "down for a while"), thread-safe counts."""

    def __init__(
        self,
        secret: str,
        *,
        port: int = 0,
        chaos: Callable[[int], Chaos] | None = None,
        stall_s: float = 1.0,
    ) -> None:
        self.secret = secret
        self.port = port
        self.chaos = chaos or (lambda _n: Chaos.OK)
        self.stall_s = stall_s
        self.counts = ReceiverCounts()
        self.lock = threading.Lock()
        self.on_request: Callable[[int], None] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, headers: dict[str, str], body: str) -> int:
        """Process one request; returns the HTTP status to answer."""
        with self.lock:
            self.counts.requests += 1
            n = self.counts.requests
        if self.on_request is not None:
            self.on_request(n)
        mode = self.chaos(n)
        if mode is Chaos.FAIL:
            with self.lock:
                self.counts.failed += 1
            return 500
        try:
            event_id = verify(self.secret, headers, body)
        except SignatureError:
            with self.lock:
                self.counts.bad_signature += 1
            return 401
        if mode is Chaos.STALL:
            with self.lock:
                self.counts.stalled += 1
            time.sleep(self.stall_s)
        with self.lock:
            if self.counts.processed[event_id]:
                self.counts.duplicates += 1
            else:
                self.counts.processed[event_id] += 1
        return 204


def _handler(receiver: LoopbackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: senders reuse one connection

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up (timeout or killed): it will retry

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler
