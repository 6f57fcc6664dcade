"""Token buckets (``kit.ratelimit.TokenBuckets``): spending, refilling, and the check the
failed-authentication limit makes before every authentication."""

from __future__ import annotations

from tests.support.clock import ManualClock

from cleverfox.server.kit.ratelimit import TokenBuckets


def test_a_key_never_seen_is_not_exhausted_and_is_not_remembered() -> None:
    buckets = TokenBuckets(60, 2, clock=ManualClock())
    assert not buckets.exhausted("10.0.0.1")
    assert buckets.take("10.0.0.2").remaining == 1
    assert not buckets.exhausted("10.0.0.1")
    # Checking a key does not create its bucket: only spending does.
    assert list(buckets._buckets) == ["10.0.0.2"]


def test_a_key_is_exhausted_after_its_burst_until_a_token_refills() -> None:
    clock = ManualClock()
    buckets = TokenBuckets(60, 2, clock=clock)  # one token a second
    assert [buckets.take("k").allowed for _ in range(3)] == [True, True, False]
    assert buckets.exhausted("k")
    clock.now += 0.99
    assert buckets.exhausted("k")
    clock.now += 0.01
    assert not buckets.exhausted("k")
    assert buckets.take("k").allowed
    assert buckets.exhausted("k")


def test_a_refused_take_says_when_to_retry() -> None:
    clock = ManualClock()
    buckets = TokenBuckets(6, 1, clock=clock)  # one token every ten seconds
    assert buckets.take("k").allowed
    refused = buckets.take("k")
    assert not refused.allowed and refused.retry_after == 10 and refused.remaining == 0
