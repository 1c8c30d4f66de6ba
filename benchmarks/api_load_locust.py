"""Locust user for benchmarks/api_load.py: a dispatcher's map asking for tickets in view.

Run by api_load.py in a second process (``locust -f benchmarks/api_load_locust.py --headless``);
it reads the bearer token, the per-user rate and the file of prepared queries (bbox + status,
the same ones api_load.py times in SQL) from NESTPATROL_LOAD_* environment variables.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from locust import FastHttpUser, constant_throughput, task

TOKEN = os.environ["NESTPATROL_LOAD_TOKEN"]
PER_USER_RPS = float(os.environ["NESTPATROL_LOAD_PER_USER_RPS"])
QUERIES: list[str] = json.loads(Path(os.environ["NESTPATROL_LOAD_QUERIES"]).read_text())


class Dispatcher(FastHttpUser):
    """Pans the map: each request is a random viewport and a random ticket status."""

    wait_time = constant_throughput(PER_USER_RPS)

    def on_start(self) -> None:
        # Users all start at once; without a random offset they would keep firing in lockstep
        # (bursts of rate/2 requests every 1/PER_USER_RPS s) where a city's map users do not.
        time.sleep(random.uniform(0, 1 / PER_USER_RPS))  # gevent-patched under Locust

    @task
    def tickets_in_view(self) -> None:
        with self.client.get(
            random.choice(QUERIES),
            headers={"Authorization": f"Bearer {TOKEN}"},
            name="GET /api/v1/tickets?bbox&status",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif b'"FeatureCollection"' not in (response.content or b"")[:64]:
                response.failure("not a GeoJSON FeatureCollection")
