"""China's official work calendar and SLA deadline arithmetic.

`WorkCalendar` answers "is this local date a working day?" from the `chinesecalendar` package, which
knows the official public holidays and the make-up working weekends (调休) published by the State
Council, plus local overrides (a district closing for a typhoon, a newly announced make-up day) that
always win over the package. For years the package has no data for, it falls back to Monday–Friday
(still subject to the overrides) instead of raising.

Durations are written ``<n>s``, ``<n>m``, ``<n>h``, ``<n>d`` (calendar seconds, minutes, hours,
days) or ``<n>wd`` (working days); `parse_duration` reads them and `due_at` turns a start instant
plus a duration into a deadline. Working days are counted on local dates in Beijing time (Asia/Shanghai).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from chinese_calendar.constants import holidays as _pkg_holidays

__all__ = [
    "LOCAL_TZ",
    "MAX_WORKING_DAYS",
    "WORKDAY_START",
    "Duration",
    "DurationUnit",
    "WorkCalendar",
    "due_at",
    "local_date",
    "parse_duration",
]


def _shanghai() -> tzinfo:
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # pragma: no cover - only on hosts without a tz database
        # China Standard Time has had no daylight saving since 1991.
        return timezone(timedelta(hours=8), "CST")


LOCAL_TZ: tzinfo = _shanghai()
"""The zone whose local dates working days are counted in."""

WORKDAY_START = time(9, 0)
"""Local time a working-day clock starts from when the start instant falls on a non-working day."""

MAX_WORKING_DAYS = 10_000
"""Largest ``<n>wd`` accepted (about forty years); larger values are configuration mistakes."""

_PKG_MIN_YEAR = min(_pkg_holidays).year
_PKG_MAX_YEAR = max(_pkg_holidays).year


@functools.lru_cache(maxsize=8192)
def _package_is_workday(d: date) -> bool | None:
    """The package's answer for `d`, or None when it has no data for that year."""
    if not _PKG_MIN_YEAR <= d.year <= _PKG_MAX_YEAR:
        return None
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:  # pragma: no cover - the range check above matches the package's
        return None


def local_date(moment: datetime) -> date:
    """The Beijing-time calendar date of an aware instant. Naive datetimes raise ValueError."""
    _require_aware(moment)
    return moment.astimezone(LOCAL_TZ).date()


class WorkCalendar:
    """Which local dates are working days.

    Precedence, highest first: the `overrides` given here (``{date: is_workday}``), then the
    `chinesecalendar` package's official holidays and make-up working days, then Monday–Friday for
    years the package does not cover. Instances are immutable.
    """

    __slots__ = ("_overrides",)

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        checked: dict[date, bool] = {}
        for day, is_work in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"override keys must be dates, got {day!r}")
            checked[day] = bool(is_work)
        self._overrides: Mapping[date, bool] = MappingProxyType(checked)

    @property
    def overrides(self) -> Mapping[date, bool]:
        """The local overrides, read-only."""
        return self._overrides

    @staticmethod
    def package_years() -> tuple[int, int]:
        """First and last year (inclusive) the `chinesecalendar` package has official data for."""
        return _PKG_MIN_YEAR, _PKG_MAX_YEAR

    def with_overrides(self, overrides: Mapping[date, bool]) -> WorkCalendar:
        """A new calendar with `overrides` layered on top of this one's."""
        return WorkCalendar({**self._overrides, **overrides})

    def is_workday(self, d: date) -> bool:
        """Whether local date `d` is a working day.

        Takes a `date`, not a `datetime`: use `local_date` first so the time zone is explicit.
        """
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"is_workday takes a date, got {type(d).__name__}; use local_date() first")
        override = self._overrides.get(d)
        if override is not None:
            return override
        official = _package_is_workday(d)
        if official is not None:
            return official
        return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """The first working day on or after `d`."""
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day strictly after `d` (``n == 0`` returns `d` itself)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        remaining = n
        while remaining:
            d += timedelta(days=1)
            if self.is_workday(d):
                remaining -= 1
        return d

    def __repr__(self) -> str:
        return f"WorkCalendar(overrides={dict(self._overrides)!r})"


class DurationUnit(StrEnum):
    """Units a deadline duration may be written in."""

    SECONDS = "s"
    MINUTES = "m"
    HOURS = "h"
    DAYS = "d"
    WORKING_DAYS = "wd"


_DURATION_RE = re.compile(r"([0-9]+)(wd|s|m|h|d)")


@dataclass(frozen=True, slots=True)
class Duration:
    """An SLA duration: `amount` (>= 0) of `unit`. ``str()`` gives the written form back."""

    amount: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"duration amount must be a non-negative integer, got {self.amount!r}")
        if not isinstance(self.unit, DurationUnit):
            object.__setattr__(self, "unit", DurationUnit(self.unit))
        if self.unit is DurationUnit.WORKING_DAYS:
            if self.amount > MAX_WORKING_DAYS:
                raise ValueError(f"at most {MAX_WORKING_DAYS} working days, got {self.amount}")
        else:
            self.to_timedelta()

    @property
    def is_working_days(self) -> bool:
        """True for ``<n>wd``, which needs a calendar; False for plain calendar time."""
        return self.unit is DurationUnit.WORKING_DAYS

    def to_timedelta(self) -> timedelta:
        """The fixed length of a calendar-unit duration. Working days have none: ValueError."""
        try:
            if self.unit is DurationUnit.SECONDS:
                return timedelta(seconds=self.amount)
            if self.unit is DurationUnit.MINUTES:
                return timedelta(minutes=self.amount)
            if self.unit is DurationUnit.HOURS:
                return timedelta(hours=self.amount)
            if self.unit is DurationUnit.DAYS:
                return timedelta(days=self.amount)
        except OverflowError as exc:
            raise ValueError(f"duration {self} is too large") from exc
        raise ValueError(f"{self} is in working days and has no fixed length; use due_at()")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def parse_duration(text: str) -> Duration:
    """Read ``<n>s``, ``<n>m``, ``<n>h``, ``<n>d`` or ``<n>wd`` (n a non-negative decimal integer;
    seconds are for simulations and tests that compress time).

    Surrounding whitespace is ignored; units are lower-case and nothing may separate number and unit.
    Anything else raises ValueError naming the text.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: expected a string like '4h' or '3wd'")
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: expected <n>s, <n>m, <n>h, <n>d or <n>wd, e.g. '4h' or '3wd'"
        )
    try:
        return Duration(int(match.group(1)), DurationUnit(match.group(2)))
    except ValueError as exc:
        raise ValueError(f"invalid duration {text!r}: {exc}") from exc


def _require_aware(moment: datetime) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone; pass an aware datetime")


def due_at(start: datetime, duration: Duration, calendar: WorkCalendar) -> datetime:
    """The deadline `duration` after `start`, as an aware UTC datetime.

    `start` must be timezone-aware (naive datetimes raise ValueError).

    Calendar units (``m``, ``h``, ``d``) are plain elapsed time: ``start + timedelta``, ignoring the
    work calendar.

    Working days (``wd``) are counted on Beijing-time (Asia/Shanghai) local dates:

    * a start on a working day keeps its local time of day, and the deadline is that same local time
      on the n-th following working day (``1wd`` from Monday 14:30 is Tuesday 14:30; across a
      holiday the holiday days are skipped);
    * a start on a non-working day is treated as if it arrived at `WORKDAY_START` (09:00 local) on
      the next working day, and the n working days are counted from there (``1wd`` from Saturday
      22:00 is Tuesday 09:00; ``0wd`` from Saturday is Monday 09:00);
    * ``0wd`` from a working day is `start` itself.

    The result is therefore never before `start`, and strictly increases with n.
    """
    _require_aware(start)
    if not duration.is_working_days:
        return (start + duration.to_timedelta()).astimezone(UTC)

    local = start.astimezone(LOCAL_TZ)
    day = local.date()
    time_of_day = local.time()
    if not calendar.is_workday(day):
        day = calendar.next_workday(day)
        time_of_day = WORKDAY_START
    end_day = calendar.add_workdays(day, duration.amount)
    return datetime.combine(end_day, time_of_day, tzinfo=LOCAL_TZ).astimezone(UTC)
