"""When a job is next due: the schedule rules of resources.md, Jobs.

Two kinds of date-time meet here, both naive ``datetime`` values:

- a *wall time* is what the device's clock reads in its zone (NextRunOn, ExpireOn);
- an *instant* is UTC (now, NextRunUtc, when a LateAfter window closes).

Wall times are nominal. One that does not exist (clocks go forward) happens at the first
instant after the gap, for that occurrence only: the schedule keeps the nominal wall time, so
later occurrences are not shifted. An ambiguous one (clocks go back) means its first
occurrence. Nothing here reads the clock or a database: callers pass ``now_utc``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_EVERY",
    "Frequency",
    "Schedule",
    "is_expired",
    "next_due",
    "parse_frequency",
    "roll_forward",
    "to_local",
    "to_utc",
    "window_closes_utc",
]

MAX_EVERY = 999
_ISO_WEEKDAYS = frozenset(range(1, 8))


class Frequency(StrEnum):
    """How often a job runs; the values are the published wire spellings."""

    HOURLY = "Hourly"
    DAILY = "Daily"
    WEEKLY = "Weekly"
    MONTHLY = "Monthy"  # sic: the published contract spells it so, and we answer with it
    ONE_TIME = "One Time"


_FREQUENCY_NAMES: dict[str, Frequency] = {
    **{frequency.value.casefold(): frequency for frequency in Frequency},
    "monthly": Frequency.MONTHLY,
}


def parse_frequency(text: str) -> Frequency | None:
    """The frequency *text* names, case-insensitively (``Monthly`` means ``Monthy``), or None."""
    return _FREQUENCY_NAMES.get(text.casefold())


@dataclass(frozen=True)
class Schedule:
    """A job's schedule, as the next-run rules need it.

    ``every`` counts hours, days, weeks or months (1-999). ``weekdays`` are ISO weekdays
    (1 Monday … 7 Sunday) and ``week_anchor`` is the date of NextRunOn as last set by POST or
    PUT: Weekly runs only in every ``every``-th ISO week counted from the week containing it,
    and needs both. ``day_of_month`` (1-31) is Monthly's and needed by it. ``expire_on`` is One
    Time's wall time after which it never runs. Attributes another frequency does not use are
    ignored. Raises ``ValueError`` when the attributes break these rules.
    """

    frequency: Frequency
    every: int
    weekdays: frozenset[int] = frozenset()
    day_of_month: int | None = None
    week_anchor: date | None = None
    expire_on: datetime | None = None

    def __post_init__(self) -> None:
        problem = _schedule_problem(self)
        if problem is not None:
            raise ValueError(problem)


def _schedule_problem(schedule: Schedule) -> str | None:
    if not 1 <= schedule.every <= MAX_EVERY:
        return f"every must be 1-{MAX_EVERY}, not {schedule.every}"
    if not schedule.weekdays <= _ISO_WEEKDAYS:
        return "weekdays are ISO weekdays, 1 (Monday) to 7 (Sunday)"
    if schedule.day_of_month is not None and not 1 <= schedule.day_of_month <= 31:
        return f"day_of_month must be 1-31, not {schedule.day_of_month}"
    if schedule.frequency is Frequency.WEEKLY and not schedule.weekdays:
        return "a weekly schedule needs at least one weekday"
    if schedule.frequency is Frequency.WEEKLY and schedule.week_anchor is None:
        return "a weekly schedule needs a week_anchor"
    if schedule.frequency is Frequency.MONTHLY and schedule.day_of_month is None:
        return "a monthly schedule needs a day_of_month"
    return None


def to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The instant (naive UTC) at which the clock in *tz* reads the naive wall time *wall*.

    An ambiguous wall time is its first occurrence; one inside a gap happens at the first
    instant after the gap (where the clock reads the gap's end). Non-decreasing in *wall*.
    Raises ``ValueError`` for an aware *wall*, ``OverflowError`` past the datetime range.
    """
    first = _first_reading_utc(wall, tz)
    if to_local(first, tz) == wall:
        return first
    return _end_of_gap(wall, tz)


def to_local(utc: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall time the clock in *tz* reads at the naive UTC instant *utc*."""
    _require_naive(utc)
    return utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None, fold=0)


def window_closes_utc(next_run_wall: datetime, late_after_minutes: int, tz: ZoneInfo) -> datetime:
    """The instant (naive UTC) after which a run due at *next_run_wall* counts as missed."""
    return to_utc(next_run_wall, tz) + timedelta(minutes=late_after_minutes)


def next_due(
    schedule: Schedule, last_due_wall: datetime, tz: ZoneInfo, now_utc: datetime
) -> datetime | None:
    """The nominal wall time at which the job is next due, or None for One Time.

    *last_due_wall* is the occurrence just started or missed (the stored NextRunOn). The result
    is the first occurrence after it whose instant (``to_utc``) is later than both *now_utc*
    and the instant of *last_due_wall*:

    - Hourly: ``every`` * 60 elapsed minutes on, counted from *last_due_wall* read as the
      clock would have had it not jumped (so across a DST change the wall time shifts).
      An occurrence in the second pass of a repeated hour has no wall time of its own (its
      reading names the first pass), so it is skipped.
    - Daily: ``every`` days on, at the same wall time.
    - Weekly: the next chosen weekday at the same wall time, in an ISO week whose distance in
      weeks from ``week_anchor``'s is a multiple of ``every``.
    - Monthly: ``every`` months on (and multiples of it), on ``day_of_month`` or a shorter
      month's last day, at the same wall time.

    Takes time logarithmic in how far behind *now_utc* the schedule is. Raises
    ``OverflowError`` when the next occurrence is past the datetime range.
    """
    if schedule.frequency is Frequency.ONE_TIME:
        return None
    _require_naive(now_utc)
    threshold = max(now_utc, to_utc(last_due_wall, tz))
    if schedule.frequency is Frequency.HOURLY:
        return _next_hourly(schedule.every, last_due_wall, tz, threshold)
    occurrence, known_early = _occurrences(schedule, last_due_wall)

    def is_due(index: int) -> bool:
        try:
            wall = occurrence(index)
            return wall > last_due_wall and to_utc(wall, tz) > threshold
        except OverflowError:
            return True  # past the end of time: later than any now

    return occurrence(_first_index(is_due, known_early))


def roll_forward(
    schedule: Schedule,
    next_run_wall: datetime,
    late_after_minutes: int,
    tz: ZoneInfo,
    now_utc: datetime,
) -> datetime:
    """NextRunOn as POST, PUT or reactivation should store it.

    While the run's LateAfter window is open (it closes at ``window_closes_utc``, which must be
    after *now_utc*) the run stays due and *next_run_wall* is kept, even on a day the schedule
    would not choose. Once it has closed, the result is the next due time after now
    (``next_due`` from *next_run_wall*), without a missed run. One Time keeps *next_run_wall*:
    the job is done.
    """
    if window_closes_utc(next_run_wall, late_after_minutes, tz) > now_utc:
        return next_run_wall
    following = next_due(schedule, next_run_wall, tz, now_utc)
    return next_run_wall if following is None else following


def is_expired(schedule: Schedule, tz: ZoneInfo, now_utc: datetime) -> bool:
    """Whether a One Time job may no longer run at *now_utc*: it is after its ``expire_on``.

    Always false for other frequencies and without ``expire_on``.
    """
    if schedule.frequency is not Frequency.ONE_TIME or schedule.expire_on is None:
        return False
    return now_utc > to_utc(schedule.expire_on, tz)


def _require_naive(value: datetime) -> None:
    if value.tzinfo is not None:
        raise ValueError(f"expected a naive datetime, got {value.isoformat()}")


def _first_reading_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """*wall* read with the offset in force before any transition at it (PEP 495 fold=0).

    For an existing wall time that is ``to_utc``; inside a gap it is the instant the clock
    would have read *wall* had it not jumped.
    """
    _require_naive(wall)
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).replace(tzinfo=None)


def _end_of_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant after the gap that contains the nonexistent wall time *wall*."""
    # In a gap, fold=1 reads *wall* with the later offset, giving an instant before the jump.
    # Transitions fall on whole seconds, so bisect whole seconds from there.
    before_jump = wall.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(tzinfo=None)
    start = before_jump.replace(microsecond=0)
    seconds = _first_index(lambda second: to_local(start + timedelta(seconds=second), tz) > wall, 0)
    return start + timedelta(seconds=seconds)


def _first_index(holds: Callable[[int], bool], known_false: int) -> int:
    """The least index above *known_false* at which the monotone predicate *holds*.

    *holds* must be false up to some index and true from there on. Gallops, then bisects, so
    it costs about 2·log2(distance) calls.
    """
    low, step = known_false, 1
    high = low + step
    while not holds(high):
        low, step = high, step * 2
        high = low + step
    while high - low > 1:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle
    return high


def _next_hourly(
    every: int, last_due_wall: datetime, tz: ZoneInfo, threshold: datetime
) -> datetime:
    """The first hourly occurrence after *threshold* that has a wall time of its own."""
    step = timedelta(hours=every)
    start = _first_reading_utc(last_due_wall, tz)
    index = max(1, (threshold - start) // step + 1)
    while True:
        instant = start + index * step
        wall = to_local(instant, tz)
        if to_utc(wall, tz) == instant:
            return wall
        index += 1  # the second pass of a repeated hour: its wall time names the first


_Occurrences = tuple[Callable[[int], datetime], int]


def _occurrences(schedule: Schedule, last_due_wall: datetime) -> _Occurrences:
    """The schedule's nominal wall times as an increasing function of an index, and an index
    whose occurrence is known to be no later than *last_due_wall*."""
    if schedule.frequency is Frequency.DAILY:
        step = timedelta(days=schedule.every)
        return (lambda index: last_due_wall + index * step), 0
    if schedule.frequency is Frequency.WEEKLY:
        return _weekly_occurrences(schedule, last_due_wall)
    if schedule.frequency is Frequency.MONTHLY:
        return _monthly_occurrences(schedule, last_due_wall)
    raise ValueError(f"{schedule.frequency} has no series of occurrences")


def _weekly_occurrences(schedule: Schedule, last_due_wall: datetime) -> _Occurrences:
    assert schedule.week_anchor is not None  # Schedule guarantees it for Weekly
    weekdays = sorted(schedule.weekdays)
    first_monday = _monday_of(schedule.week_anchor)
    cycle = timedelta(weeks=schedule.every)
    time_of_day = last_due_wall.time()

    def occurrence(index: int) -> datetime:
        cycles, slot = divmod(index, len(weekdays))
        day = first_monday + cycles * cycle + timedelta(days=weekdays[slot] - 1)
        return datetime.combine(day, time_of_day)

    weeks_in = (_monday_of(last_due_wall.date()) - first_monday).days // 7
    # The last occurrence of the eligible week before the one holding last_due_wall.
    return occurrence, (weeks_in // schedule.every) * len(weekdays) - 1


def _monthly_occurrences(schedule: Schedule, last_due_wall: datetime) -> _Occurrences:
    assert schedule.day_of_month is not None  # Schedule guarantees it for Monthly
    day_of_month, every = schedule.day_of_month, schedule.every
    return (lambda index: _months_on(last_due_wall, index * every, day_of_month)), 0


def _months_on(wall: datetime, months: int, day_of_month: int) -> datetime:
    """*wall*'s time, *months* months on, on *day_of_month* or that month's last day."""
    years, month_index = divmod(wall.month - 1 + months, 12)
    year, month = wall.year + years, month_index + 1
    if not MINYEAR <= year <= MAXYEAR:
        raise OverflowError("past the datetime range")
    day = min(day_of_month, calendar.monthrange(year, month)[1])
    return wall.replace(year=year, month=month, day=day)


def _monday_of(day: date) -> date:
    """The Monday that starts *day*'s ISO week (a plain date even when given a datetime)."""
    return date.fromordinal(day.toordinal() - day.isoweekday() + 1)
