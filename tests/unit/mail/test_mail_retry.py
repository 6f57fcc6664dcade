"""The backoff between attempts to deliver a mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.mail.retry import (
    MAX_ATTEMPTS,
    MAX_DELAY,
    next_attempt_delay,
    should_give_up,
)


def test_delays_double_from_one_minute_up_to_an_hour() -> None:
    minutes = [next_attempt_delay(attempt) / timedelta(minutes=1) for attempt in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@given(st.integers(min_value=1, max_value=10**9))
def test_delay_grows_and_stays_capped(attempt: int) -> None:
    delay = next_attempt_delay(attempt)
    assert timedelta(minutes=1) <= delay <= MAX_DELAY
    assert next_attempt_delay(attempt + 1) >= delay


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_count_from_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_attempt_delay(attempt)


def test_gives_up_after_max_attempts() -> None:
    assert not should_give_up(MAX_ATTEMPTS - 1)
    assert should_give_up(MAX_ATTEMPTS)


def test_all_retries_together_span_hours_not_days() -> None:
    total = sum((next_attempt_delay(a) for a in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(hours=2) <= total <= timedelta(hours=12)
