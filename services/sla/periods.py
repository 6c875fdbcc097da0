"""Assessment periods (pure): months in Beijing time, written "2026-11", and custom ranges.

A period runs from local midnight on the 1st to local midnight on the 1st of the next month
(half-open). Something measured at an instant belongs to the month that instant falls in, in
Beijing. A custom range (`Span`) runs between two local dates, the end date included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from shared.work_calendar import LOCAL_TZ

PERIOD_PATTERN = r"^(19[7-9][0-9]|[2-8][0-9]{3})-(0[1-9]|1[0-2])$"
"""A month from 1970-01 to 8999-12, written YYYY-MM."""
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(8999, 12, 31)
_PERIOD = re.compile(PERIOD_PATTERN)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def span(self) -> Span:
        return Span(_local_midnight(self.first_day), _local_midnight(self.next().first_day), str(self))


@dataclass(frozen=True)
class Span:
    """A half-open range of instants [start, end) and how it is written."""

    start: datetime
    end: datetime
    label: str

    def periods(self) -> list[Period]:
        """Every month the span touches."""
        found = [period_of(self.start)]
        while found[-1].next().span().start < self.end:
            found.append(found[-1].next())
        return found


def parse_period(text: str) -> Period:
    """ "2026-11" → Period(2026, 11); anything else raises ValueError."""
    if not isinstance(text, str) or not _PERIOD.match(text):
        raise ValueError(f"a period is a month written YYYY-MM, e.g. 2026-11 (got {text!r})")
    return Period(int(text[:4]), int(text[5:]))


def period_of(moment: datetime) -> Period:
    local = moment.astimezone(LOCAL_TZ)
    return Period(local.year, local.month)


def date_span(first: date, last: date) -> Span:
    """From local midnight of `first` to the end of `last` (both included)."""
    if last < first:
        raise ValueError("the range ends before it starts")
    return Span(_local_midnight(first), _local_midnight(last + timedelta(days=1)), f"{first}..{last}")


def close_due(period: Period, now: datetime, *, day: int) -> bool:
    """Whether a period is due to close on its own: from local midnight on `day` of the next month."""
    next_month = period.next()
    return now >= _local_midnight(date(next_month.year, next_month.month, min(day, 28)))


def has_begun(period: Period, now: datetime) -> bool:
    return period.span().start <= now


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
