"""Assessment periods: whether one is closed, and closing one (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.sla.api.common import IndexDep
from services.sla.api.schemas import PeriodOut
from services.sla.closing import close_period
from services.sla.periods import PERIOD_PATTERN, parse_period
from services.sla.repository import periods
from shared.access import Principal, check_may_close_period
from shared.auth import require
from shared.events import utcnow
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["periods"])
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="a month, YYYY-MM")]


@router.get("/periods/{period}", response_model=PeriodOut)
async def read_period(
    period: PeriodPath, session: SessionDep, principal: Annotated[Principal, require("sla:read")]
) -> PeriodOut:
    row = await periods.closed(session, period)
    if row is None:
        return PeriodOut(period=period, closed=False)
    return PeriodOut(period=period, closed=True, closed_at=row.closed_at, closed_by=row.closed_by)


@router.post("/periods/{period}/close", response_model=PeriodOut)
async def close(
    period: PeriodPath,
    session: SessionDep,
    runtime: RuntimeDep,
    index: IndexDep,
    principal: Annotated[Principal, require("sla:read")],
) -> PeriodOut:
    """Close a period: its standings are published (`score.published` per unit) and final, and its
    evaluations can no longer change. A period closed already: 409."""
    check_may_close_period(principal)
    now = utcnow()
    published = await close_period(
        session,
        period=parse_period(period),
        city=index.city,
        by=principal.client_id,
        events=runtime.outbox,
        now=now,
    )
    return PeriodOut(
        period=period,
        closed=True,
        closed_at=now,
        closed_by=principal.client_id,
        published=sum(len(rows) for rows in published.values()),
    )
