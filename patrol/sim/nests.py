"""Simulated nests: a fleet of :class:`~patrol.sim.mavlink_vehicle.MavlinkVehicle` s, one UDP
port each on loopback, and the simulator's own control API (fast-forward, wind, faults).

The vehicles run in one child process by default (``in_process=False``; POSIX): encoding and
decoding MAVLink is CPU work, and a separate process lets the vehicles and the ground station (the
controller's adapters, in this process) use two cores instead of sharing one interpreter lock.
``in_process=True`` runs them on threads here instead (handy under a debugger). Either way the
controller only ever talks MAVLink to them; the control API below is the simulator's, the way a
test bench has knobs that the real vehicle does not.

    with SimFleet([nest], start=datetime(2026, 5, 1, tzinfo=UTC)) as fleet:
        sim = fleet[nest.nest_id]
        sim.set_wind(12.0)  # above the launch limit: the next launch is refused
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from missions.fleet.profiles import Nest
from patrol.sim.mavlink_vehicle import MavlinkVehicle, VehicleConfig, VehicleSnapshot
from patrol.sim.vehicle import SimError

__all__ = ["SimFleet", "SimNest"]

_START_TIMEOUT_S = 60.0
_CALL_TIMEOUT_S = 30.0
_CONTROL = frozenset(
    {
        "advance_to",
        "now_s",
        "schedule_link_loss",
        "set_battery",
        "set_drain_factor",
        "set_online",
        "set_wind",
        "snapshot",
    }
)

Call = Callable[[str, str, tuple[Any, ...]], Any]


def _seconds(when: datetime, what: str) -> float:
    if when.tzinfo is None:
        raise SimError(
            f"{what} {when.isoformat()} has no timezone. Fix: pass an aware datetime, e.g. "
            "datetime(2026, 5, 1, 2, 0, tzinfo=UTC)."
        )
    return when.timestamp()


class SimNest:
    """One simulated nest: where its vehicle listens, and the simulator's knobs for it."""

    def __init__(self, nest: Nest, port: int, call: Call, host: str = "127.0.0.1") -> None:
        self.nest = nest
        self.port = port
        self._call = call
        self.url = f"udpout:{host}:{port}"  # the ground's pymavlink URL for this vehicle

    @property
    def nest_id(self) -> str:
        return self.nest.nest_id

    def now(self) -> datetime:
        """The nest's simulated clock."""
        return datetime.fromtimestamp(self._call(self.nest_id, "now_s", ()), UTC)

    def advance_to(self, when: datetime) -> None:
        """Fast-forward the clock to ``when`` (the battery charges); raises while flying."""
        self._call(self.nest_id, "advance_to", (_seconds(when, "advance_to"),))

    def set_wind(self, wind_mps: float) -> None:
        self._call(self.nest_id, "set_wind", (wind_mps,))

    def set_online(self, online: bool) -> None:
        """Offline: no HEARTBEAT, commands ignored (a dock without power or network)."""
        self._call(self.nest_id, "set_online", (online,))

    def set_battery(self, level: float) -> None:
        """Set the battery (0..1) now: on the ground for the next launch, or in flight."""
        self._call(self.nest_id, "set_battery", (level,))

    def set_drain_factor(self, factor: float) -> None:
        """Battery use relative to the nominal (1.0): 2.0 drains twice as fast (cold, wind)."""
        self._call(self.nest_id, "set_drain_factor", (factor,))

    def schedule_link_loss(self, at: datetime, duration_s: float) -> None:
        """Lose the link at simulated time ``at`` for ``duration_s`` simulated seconds."""
        self._call(self.nest_id, "schedule_link_loss", (_seconds(at, "at"), duration_s))

    def snapshot(self) -> VehicleSnapshot:
        result: VehicleSnapshot = self._call(self.nest_id, "snapshot", ())
        return result


class _Host:
    """The vehicles themselves, wherever they run."""

    def __init__(
        self, nests: Sequence[Nest], start_s: float, config: VehicleConfig, host: str
    ) -> None:
        self.vehicles: dict[str, MavlinkVehicle] = {}
        try:
            for i, nest in enumerate(nests):
                v = MavlinkVehicle(nest, start_s=start_s, system_id=i + 1, config=config, host=host)
                self.vehicles[nest.nest_id] = v
                v.start()
        except BaseException:
            self.stop()
            raise

    def ports(self) -> dict[str, int]:
        return {k: v.port for k, v in self.vehicles.items()}

    def call(self, nest_id: str, name: str, args: tuple[Any, ...]) -> Any:
        if name not in _CONTROL:
            raise SimError(f"{name!r} is not a simulator control; use one of {sorted(_CONTROL)}")
        vehicle = self.vehicles.get(nest_id)
        if vehicle is None:
            raise SimError(f"no simulated nest {nest_id!r}; the fleet has {sorted(self.vehicles)}")
        return getattr(vehicle, name)(*args)

    def stop(self) -> None:
        for v in self.vehicles.values():
            v.request_stop()  # all at once: each loop wakes within its idle heartbeat period
        for v in self.vehicles.values():
            v.stop()


def child_main() -> None:
    """Entry point of the simulator's child process (see :meth:`SimFleet._spawn`)."""
    conn = Connection(int(sys.argv[1]))
    nests, start_s, config, host = conn.recv()
    _serve(conn, nests, start_s, config, host)


def _serve(
    conn: Connection, nests: list[Nest], start_s: float, config: VehicleConfig, host: str
) -> None:
    """The child process: run the vehicles, answer control calls until told to stop."""
    try:
        vehicles = _Host(nests, start_s, config, host)
    except Exception as e:  # the process boundary: report, the parent raises
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", vehicles.ports()))
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                break  # the parent is gone
            if request[0] == "stop":
                break
            _, nest_id, name, args = request
            try:
                conn.send(("ok", vehicles.call(nest_id, name, args)))
            except Exception as e:  # the process boundary: hand every error to the parent
                conn.send(("error", str(e) if isinstance(e, SimError) else repr(e)))
    finally:
        vehicles.stop()
        conn.close()


class SimFleet:
    """Simulated nests for ``nests``, all clocks starting at ``start``; a context manager."""

    def __init__(
        self,
        nests: Sequence[Nest],
        *,
        start: datetime,
        config: VehicleConfig | None = None,
        in_process: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        ids = [n.nest_id for n in nests]
        if len(set(ids)) != len(ids):
            raise SimError(f"nest ids must be unique, got {ids}; rename the duplicates")
        self._nests = list(nests)
        self._start_s = _seconds(start, "start")
        self._config = config or VehicleConfig()
        self._in_process = in_process
        self._host = host
        self._local: _Host | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._sims: dict[str, SimNest] = {}

    def __enter__(self) -> SimFleet:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __getitem__(self, nest_id: str) -> SimNest:
        try:
            return self._sims[nest_id]
        except KeyError:
            known = sorted(self._sims)
            raise SimError(
                f"no simulated nest {nest_id!r} (is the fleet started?); it has {known}"
            ) from None

    def __iter__(self) -> Iterator[SimNest]:
        return iter(self._sims.values())

    def start(self) -> None:
        if self._sims:
            return
        if self._in_process:
            self._local = _Host(self._nests, self._start_s, self._config, self._host)
            ports = self._local.ports()
        else:
            ports = self._spawn()
        for n in self._nests:
            self._sims[n.nest_id] = SimNest(n, ports[n.nest_id], self._call, self._host)

    def _spawn(self) -> dict[str, int]:
        """Start the child with a fresh interpreter (not multiprocessing's spawn, which would
        re-run the caller's main module), talking over a socket pair."""
        ours, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[2])  # the directory holding `patrol`
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        }
        code = "from patrol.sim.nests import child_main; child_main()"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._conn = conn = Connection(ours.detach())
        conn.send((self._nests, self._start_s, self._config, self._host))
        reply: tuple[str, Any]
        try:
            ready = conn.poll(_START_TIMEOUT_S)
            reply = conn.recv() if ready else ("error", "no answer")
        except (EOFError, OSError) as e:
            reply = ("error", f"it exited ({e!r}); see its error output above")
        kind = reply[0]
        payload: Any = reply[1]
        if kind != "ready":
            self.stop()
            raise SimError(
                f"the simulator process failed to start within {_START_TIMEOUT_S:.0f} s: "
                f"{payload}. Fix: see its error output; or run SimFleet(in_process=True)."
            )
        ports: dict[str, int] = payload
        return ports

    def _call(self, nest_id: str, name: str, args: tuple[Any, ...]) -> Any:
        if self._local is not None:
            return self._local.call(nest_id, name, args)
        with self._lock:
            conn = self._conn
            if conn is None:
                raise SimError("the simulated fleet is stopped. Fix: use it inside `with SimFleet`")
            conn.send(("call", nest_id, name, args))
            if not conn.poll(_CALL_TIMEOUT_S):
                raise SimError(f"the simulator did not answer {name} within {_CALL_TIMEOUT_S} s")
            kind, payload = conn.recv()
        if kind == "error":
            raise SimError(payload)
        return payload

    def stop(self) -> None:
        self._sims.clear()
        if self._local is not None:
            self._local.stop()
            self._local = None
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(("stop",))
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5.0)
            self._proc = None
