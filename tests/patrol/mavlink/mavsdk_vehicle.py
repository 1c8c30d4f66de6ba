"""Vehicle side for the upload test: MAVSDK's own MissionRawServer plugin (from the ``mavsdk``
PyPI wheel, its native C++ core) acting as an autopilot. Not written by this project: only this
launcher is. Run as a subprocess:

    python mavsdk_vehicle.py udpin://127.0.0.1:PORT [LIFETIME_S]

Prints ``READY`` once listening, ``INCOMING <result> <count>`` for each mission it receives, and
exits when its stdin closes or LIFETIME_S (default 30) passes, whichever is first.
"""

from __future__ import annotations

import select
import sys
import time
from typing import Any

from mavsdk import ComponentType, Configuration, ConnectionResult, Mavsdk  # type: ignore[import-untyped]
from mavsdk.plugins.mission_raw_server import MissionRawServer  # type: ignore[import-untyped]


def _on_incoming(result: Any, plan: Any, _user_data: Any) -> None:
    print(f"INCOMING {int(result)} {len(plan.mission_items)}", flush=True)


def main(url: str, lifetime_s: float) -> int:
    sdk = Mavsdk(Configuration.create_with_component_type(ComponentType.AUTOPILOT))
    result = sdk.add_any_connection(url)
    if result != ConnectionResult.SUCCESS:
        print(f"FAILED add_any_connection({url}): {ConnectionResult(result).name}", flush=True)
        return 2
    server = MissionRawServer(sdk.server_component())
    server.subscribe_incoming_mission(_on_incoming)
    print("READY", flush=True)
    deadline = time.monotonic() + lifetime_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sys.stdin], [], [], min(left, 0.5))
        if ready and not sys.stdin.readline():
            break  # stdin closed: the test is done with us
    sdk.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 30.0))
