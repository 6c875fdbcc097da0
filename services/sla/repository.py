"""All SQL of SLA."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.clocks import ClockPlan, verdict
from services.sla.models import Clock

_START_CLOCK = insert(Clock).on_conflict_do_nothing(index_elements=["whistle_id", "stage", "unit_code"])


async def start_clocks(
    session: AsyncSession, *, complaint_id: str, whistle_id: str, plans: Sequence[ClockPlan]
) -> None:
    if not plans:
        return
    await session.execute(
        _START_CLOCK,
        [
            dict(
                complaint_id=complaint_id,
                whistle_id=whistle_id,
                assignment_id=p.assignment_id,
                unit_code=p.unit_code,
                stage=p.stage,
                status="running",
                started_at=p.started_at,
                due_at=p.due_at,
            )
            for p in plans
        ],
    )


async def stop_clock(
    session: AsyncSession, *, whistle_id: str, stage: str, unit_code: str, at: datetime
) -> bool:
    """Stop a running clock; False if there was none (not started yet, or already stopped)."""
    clock = (
        (
            await session.execute(
                select(Clock)
                .where(Clock.whistle_id == whistle_id, Clock.stage == stage, Clock.unit_code == unit_code)
                .with_for_update()
            )
        )
        .scalars()
        .first()
    )
    if clock is None or clock.stopped_at is not None:
        return False
    await session.execute(
        update(Clock).where(Clock.id == clock.id).values(stopped_at=at, status=verdict(clock.due_at, at))
    )
    return True


async def clocks_of(session: AsyncSession, complaint_id: str) -> Sequence[Clock]:
    query = select(Clock).where(Clock.complaint_id == complaint_id).order_by(Clock.started_at, Clock.id)
    return (await session.execute(query)).scalars().all()
