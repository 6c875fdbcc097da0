"""What SLA's gauges read beyond the standings: running clocks per stage and department (and how
many are past their deadline), evaluations given per street in a period, and the latest period that
was closed. Each one statement for every unit at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.models import ClosedPeriod, Evaluation
from services.sla.repository.clocks import CLOCKS

EVALUATIONS = cast(Table, Evaluation.__table__)
PERIODS = cast(Table, ClosedPeriod.__table__)


@dataclass(frozen=True)
class RunningClocks:
    stage: str
    department_code: str | None
    role: str
    running: int
    overdue: int


async def running_clocks(session: AsyncSession, *, now: datetime) -> list[RunningClocks]:
    c = CLOCKS.c
    query = (
        select(c.stage, c.department_code, c.role, func.count(), func.count().filter(c.due_at <= now))
        .where(c.status == "running")
        .group_by(c.stage, c.department_code, c.role)
    )
    return [RunningClocks(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in await session.execute(query)]


async def evaluations_by_street(session: AsyncSession, period: str) -> dict[str, int]:
    query = (
        select(EVALUATIONS.c.street_code, func.count())
        .where(EVALUATIONS.c.period == period)
        .group_by(EVALUATIONS.c.street_code)
    )
    return {r[0]: int(r[1]) for r in await session.execute(query)}


async def latest_closed_period(session: AsyncSession) -> str | None:
    found = (await session.execute(select(func.max(PERIODS.c.period)))).scalar()
    return str(found) if found is not None else None
