from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.dispatch.config import RetryPolicy
from api.dispatch.signing import new_secret, sign, signed_headers, verify
from api.errors import DeliveryConfigError, SignatureError

from .conftest import SECRET


def test_matches_the_standard_webhooks_reference_vector() -> None:
    # the example of the reference libraries' test suites
    sig = sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_fresh_and_refuses_tampered_stale_or_unsigned() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    body = '{"a":1}'
    headers = signed_headers(SECRET, "evt_1", body, now=now)
    assert verify(SECRET, headers, body, now=now + timedelta(seconds=299)) == "evt_1"
    with pytest.raises(SignatureError, match="no webhook-signature matches"):
        verify(SECRET, headers, '{"a":2}', now=now)
    with pytest.raises(SignatureError, match="tolerance 300 s"):
        verify(SECRET, headers, body, now=now + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="missing webhook-id"):
        verify(SECRET, {"webhook-id": "evt_1"}, body, now=now)
    with pytest.raises(SignatureError, match="no webhook-signature matches"):
        verify(new_secret(), headers, body, now=now)


def test_rotation_accepts_any_listed_signature() -> None:
    now = datetime.now(UTC)
    old, new = new_secret(), new_secret()
    headers = signed_headers(old, "evt_2", "x", now=now)
    headers["webhook-signature"] = (
        f"{sign(new, 'evt_2', int(now.timestamp()), 'x')} " + (headers["webhook-signature"])
    )
    assert verify(old, headers, "x", now=now) == "evt_2"
    assert verify(new, headers, "x", now=now) == "evt_2"


def test_bad_secrets_and_ids_are_refused_with_the_fix() -> None:
    with pytest.raises(DeliveryConfigError, match="not base64"):
        sign("whsec_***", "evt_1", 1, "x")
    with pytest.raises(DeliveryConfigError, match="at least 24"):
        sign("whsec_c2hvcnQ=", "evt_1", 1, "x")
    with pytest.raises(DeliveryConfigError, match=r"contains '\.'"):
        sign(SECRET, "evt.1", 1, "x")


@given(st.integers(1, 40), st.integers(0, 2**32))
def test_backoff_grows_within_jitter_and_the_cap(attempt: int, seed: int) -> None:
    policy = RetryPolicy()
    rng = random.Random(seed)
    delay = policy.delay_s(attempt, rng)
    base = min(policy.max_delay_s, policy.first_delay_s * policy.factor ** (attempt - 1))
    assert base * (1 - policy.jitter) <= delay <= base
