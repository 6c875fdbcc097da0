"""What SLA's endpoints share: the city copy, and the period or range a read is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from services.sla.periods import (
    FIRST_DAY,
    LAST_DAY,
    PERIOD_PATTERN,
    Period,
    Span,
    date_span,
    parse_period,
    period_of,
)
from services.sla.units import Directory, directory
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.events import utcnow
from shared.snapshot_cache import SnapshotCache


def city_index(request: Request) -> CityIndex:
    cache: SnapshotCache = request.app.state.snapshot
    return cache.require().index


async def _index(request: Request) -> CityIndex:
    return city_index(request)


async def _directory(request: Request) -> Directory:
    return directory(city_index(request))


IndexDep = Annotated[CityIndex, Depends(_index)]
UnitsDep = Annotated[Directory, Depends(_directory)]
PeriodQuery = Annotated[
    str | None, Query(pattern=PERIOD_PATTERN, description="a month, YYYY-MM (default: this month)")
]


@dataclass(frozen=True)
class Asked:
    """The span a read is about; `period` when it is a whole month."""

    span: Span
    period: Period | None


async def _asked(
    period: PeriodQuery = None,
    from_: Annotated[date | None, Query(alias="from", description="a custom range's first day")] = None,
    to: Annotated[date | None, Query(description="a custom range's last day (included)")] = None,
) -> Asked:
    problems = []
    if period is not None and (from_ is not None or to is not None):
        problems.append({"field": "period", "message": "give a period or a range (from, to), not both"})
    if (from_ is None) != (to is None):
        problems.append(
            {"field": "from" if from_ is None else "to", "message": "a range needs both from and to"}
        )
    if from_ is not None and to is not None and to < from_:
        problems.append({"field": "to", "message": "the range ends before it starts"})
    for name, day in (("from", from_), ("to", to)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            problems.append({"field": name, "message": f"a day from {FIRST_DAY} to {LAST_DAY}"})
    if problems:
        raise Unprocessable("The period is not valid.", errors=problems)
    if from_ is not None and to is not None:
        return Asked(date_span(from_, to), None)
    month = parse_period(period) if period else period_of(utcnow())
    return Asked(month.span(), month)


AskedDep = Annotated[Asked, Depends(_asked)]
