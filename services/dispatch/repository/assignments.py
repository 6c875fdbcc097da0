"""Assignments: one to act on, the queue read views, and what a complaint's returns were."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.lifecycle import RETURNED
from services.dispatch.models import Assignment


async def assignment(session: AsyncSession, assignment_id: str) -> Assignment | None:
    return await session.get(Assignment, assignment_id)


async def assignment_for_update(session: AsyncSession, assignment_id: str) -> Assignment | None:
    query = (
        select(Assignment)
        .where(Assignment.id == assignment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalars().first()


async def whistle_id_of(session: AsyncSession, assignment_id: str) -> str | None:
    query = select(Assignment.whistle_id).where(Assignment.id == assignment_id)
    return (await session.execute(query)).scalar_one_or_none()


async def queue(
    session: AsyncSession,
    *,
    department_code: str | None = None,
    unit_code: str | None = None,
    statuses: Sequence[str],
    limit: int = 100,
    after: tuple[datetime, str] | None = None,
) -> Sequence[Assignment]:
    """A department's or unit's assignments, oldest queued first; `after` is the keyset cursor over
    that same order (queued_at, id), so paging never skips or repeats an item."""
    query = select(Assignment).where(Assignment.status.in_(statuses))
    if department_code is not None:
        query = query.where(Assignment.department_code == department_code)
    if unit_code is not None:
        query = query.where(Assignment.unit_code == unit_code)
    if after is not None:
        query = query.where(tuple_(Assignment.queued_at, Assignment.id) > tuple_(*after))
    query = query.order_by(Assignment.queued_at, Assignment.id).limit(limit)
    return (await session.execute(query)).scalars().all()


async def returned_units(session: AsyncSession, complaint_id: str) -> Sequence[str]:
    """Every unit that has returned this complaint, one entry per return (every round)."""
    query = select(Assignment.unit_code).where(
        Assignment.complaint_id == complaint_id, Assignment.status == RETURNED
    )
    return (await session.execute(query)).scalars().all()


async def summoned_departments(session: AsyncSession, complaint_id: str) -> set[str]:
    query = select(func.distinct(Assignment.department_code)).where(
        Assignment.complaint_id == complaint_id, Assignment.department_code.is_not(None)
    )
    return {code for code in (await session.execute(query)).scalars() if code}


def add(session: AsyncSession, assignment: Assignment) -> None:
    session.add(assignment)
