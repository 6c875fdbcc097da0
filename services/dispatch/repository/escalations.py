"""Escalation steps: the durable table of due ladder steps, claimed by the firing job once each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.escalation import FIRED
from services.dispatch.lifecycle import WHISTLE_OPEN
from services.dispatch.models import EscalationStepRow, Whistle

_INSERT_STEP = (
    insert(EscalationStepRow)
    .on_conflict_do_nothing(index_elements=["clock_id", "cause", "position"])
    .returning(EscalationStepRow.id)
)


async def schedule(session: AsyncSession, values: Mapping[str, object]) -> int | None:
    """Record a step set off by a clock event; None when that clock already set it off."""
    return (await session.execute(_INSERT_STEP, dict(values))).scalar_one_or_none()


async def step(session: AsyncSession, step_id: int) -> EscalationStepRow:
    return (
        await session.execute(select(EscalationStepRow).where(EscalationStepRow.id == step_id))
    ).scalar_one()


async def due_for_update(
    session: AsyncSession, *, now: datetime, limit: int = 100
) -> Sequence[EscalationStepRow]:
    """Steps due now that no other firer holds (SKIP LOCKED: replicas share the work, none twice)."""
    query = (
        select(EscalationStepRow)
        .where(EscalationStepRow.fired_at.is_(None), EscalationStepRow.due_at <= now)
        .order_by(EscalationStepRow.due_at, EscalationStepRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def next_due(session: AsyncSession) -> datetime | None:
    query = select(func.min(EscalationStepRow.due_at)).where(EscalationStepRow.fired_at.is_(None))
    return (await session.execute(query)).scalar_one_or_none()


async def steps_of(session: AsyncSession, whistle_ids: Sequence[str]) -> Sequence[EscalationStepRow]:
    if not whistle_ids:
        return []
    query = (
        select(EscalationStepRow)
        .where(EscalationStepRow.whistle_id.in_(whistle_ids))
        .order_by(EscalationStepRow.due_at, EscalationStepRow.id)
    )
    return (await session.execute(query)).scalars().all()


async def district_escalations(
    session: AsyncSession,
    *,
    district_code: str,
    open_only: bool,
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> Sequence[tuple[EscalationStepRow, Whistle]]:
    """Whistles escalated to the district command centre, newest escalation first."""
    query = (
        select(EscalationStepRow, Whistle)
        .join(Whistle, Whistle.id == EscalationStepRow.whistle_id)
        .where(
            EscalationStepRow.district_code == district_code,
            EscalationStepRow.action == "district",
            EscalationStepRow.outcome == FIRED,
        )
    )
    if open_only:
        query = query.where(Whistle.status == WHISTLE_OPEN)
    if before is not None:
        query = query.where(tuple_(EscalationStepRow.fired_at, EscalationStepRow.id) < tuple_(*before))
    query = query.order_by(EscalationStepRow.fired_at.desc(), EscalationStepRow.id.desc()).limit(limit)
    return [(row, whistle) for row, whistle in (await session.execute(query)).all()]
