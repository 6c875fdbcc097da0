"""All SQL of dispatch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.dispatch.assignment_states import OPEN
from services.dispatch.models import Assignment, RefusedPushdown, Whistle

# Built once: each call binds its parameters to the same (cached) compiled statement.
_INSERT_WHISTLE = (
    insert(Whistle).on_conflict_do_nothing(index_elements=["complaint_id", "round"]).returning(Whistle.id)
)
_INSERT_ASSIGNMENT = insert(Assignment)
_INSERT_REFUSAL = insert(RefusedPushdown)


async def insert_whistle(session: AsyncSession, values: dict[str, object]) -> bool:
    """False when this complaint already has a whistle for that round."""
    return (await session.execute(_INSERT_WHISTLE, values)).first() is not None


async def insert_assignments(session: AsyncSession, rows: Sequence[Mapping[str, object]]) -> None:
    if rows:
        await session.execute(_INSERT_ASSIGNMENT, list(rows))


async def insert_refusal(session: AsyncSession, values: dict[str, object]) -> None:
    """Audit a push-down the duty list refused."""
    await session.execute(_INSERT_REFUSAL, values)


async def whistles_of(session: AsyncSession, complaint_id: str) -> Sequence[Whistle]:
    query = (
        select(Whistle)
        .where(Whistle.complaint_id == complaint_id)
        .order_by(Whistle.round)
        .options(selectinload(Whistle.assignments))
    )
    return (await session.execute(query)).scalars().all()


async def queue(
    session: AsyncSession,
    *,
    department_code: str | None = None,
    unit_code: str | None = None,
    statuses: Sequence[str] = OPEN,
    limit: int = 100,
    after: str | None = None,
) -> Sequence[Assignment]:
    query = select(Assignment).where(Assignment.status.in_(statuses))
    if department_code is not None:
        query = query.where(Assignment.department_code == department_code)
    if unit_code is not None:
        query = query.where(Assignment.unit_code == unit_code)
    if after is not None:
        query = query.where(Assignment.id > after)
    return (
        (await session.execute(query.order_by(Assignment.queued_at, Assignment.id).limit(limit)))
        .scalars()
        .all()
    )


async def assignment_for_update(session: AsyncSession, assignment_id: str) -> Assignment | None:
    query = select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    return (await session.execute(query)).scalars().first()


async def siblings_for_update(session: AsyncSession, whistle_id: str) -> tuple[Whistle, Sequence[Assignment]]:
    whistle = (
        (await session.execute(select(Whistle).where(Whistle.id == whistle_id).with_for_update()))
        .scalars()
        .one()
    )
    assignments = (
        (
            await session.execute(
                select(Assignment).where(Assignment.whistle_id == whistle_id).order_by(Assignment.position)
            )
        )
        .scalars()
        .all()
    )
    return whistle, assignments


async def close_open_whistles(session: AsyncSession, complaint_id: str, *, at: datetime) -> int:
    """Close a complaint's open whistles (and their open assignments); returns its latest round."""
    whistles = (
        (await session.execute(select(Whistle).where(Whistle.complaint_id == complaint_id).with_for_update()))
        .scalars()
        .all()
    )
    open_ids = [w.id for w in whistles if w.status == "open"]
    if open_ids:
        await session.execute(
            update(Whistle).where(Whistle.id.in_(open_ids)).values(status="superseded", completed_at=at)
        )
        await session.execute(
            update(Assignment)
            .where(Assignment.whistle_id.in_(open_ids), Assignment.status.in_(OPEN))
            .values(status="withdrawn")
        )
    return max((w.round for w in whistles), default=0)
