"""Delivery settings: retry schedule, leases, timeouts — one frozen config."""

from __future__ import annotations

import random
from dataclasses import dataclass

from api.errors import DeliveryConfigError

__all__ = ["DeliveryConfig", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, giving up after ``horizon_s`` since the event was made.

    The n-th retry waits ``min(max_delay_s, first_delay_s · factor^(n−1))`` scaled by a random
    factor in ``[1 − jitter, 1]`` ("equal-ish" jitter: never later than the schedule, spread so
    that a receiver coming back up is not hit by every sender at once). With the defaults the
    waits are 5 s, 30 s, 3 min, 18 min, 1.8 h, then 6 h until 3 days have passed, close to
    the example schedule of the Standard Webhooks spec.
    """

    first_delay_s: float = 5.0
    factor: float = 6.0
    max_delay_s: float = 6 * 3600.0
    horizon_s: float = 3 * 24 * 3600.0
    jitter: float = 0.3

    def __post_init__(self) -> None:
        if self.first_delay_s <= 0 or self.factor < 1 or self.max_delay_s < self.first_delay_s:
            raise DeliveryConfigError(
                f"{self}: need first_delay_s > 0, factor ≥ 1, max_delay_s ≥ first_delay_s"
            )
        if not 0 <= self.jitter < 1:
            raise DeliveryConfigError(f"jitter={self.jitter}: give a fraction in [0, 1)")

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Wait before retry number ``attempt`` (1 = the first retry)."""
        base = min(self.max_delay_s, self.first_delay_s * self.factor ** max(0, attempt - 1))
        return base * (1.0 - self.jitter * rng.random())


@dataclass(frozen=True)
class DeliveryConfig:
    """How a worker delivers: batch size, lease on claimed rows, HTTP timeout, retries."""

    retry: RetryPolicy = RetryPolicy()
    batch_size: int = 50
    lease_s: float = 60.0
    timeout_s: float = 15.0
    idle_sleep_s: float = 1.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.lease_s <= self.timeout_s:
            raise DeliveryConfigError(
                f"batch_size={self.batch_size}, lease_s={self.lease_s}, timeout_s="
                f"{self.timeout_s}: need batch_size ≥ 1 and a lease longer than the HTTP timeout"
            )
