"""Whistles: issuing them with their assignments, reading them, superseding a round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.dispatch.lifecycle import OPEN, WHISTLE_OPEN
from services.dispatch.models import Assignment, RefusedPushdown, Whistle

# Built once: each call binds its parameters to the same (cached) compiled statement.
_INSERT_WHISTLE = (
    insert(Whistle).on_conflict_do_nothing(index_elements=["complaint_id", "round"]).returning(Whistle.id)
)
_INSERT_ASSIGNMENT = insert(Assignment)
_INSERT_REFUSAL = insert(RefusedPushdown)


async def insert_whistle(session: AsyncSession, values: Mapping[str, object]) -> bool:
    """False when this complaint already has a whistle for that round."""
    return (await session.execute(_INSERT_WHISTLE, dict(values))).first() is not None


async def insert_assignments(session: AsyncSession, rows: Sequence[Mapping[str, object]]) -> None:
    if rows:
        await session.execute(_INSERT_ASSIGNMENT, [dict(r) for r in rows])


async def insert_refusal(session: AsyncSession, values: Mapping[str, object]) -> None:
    """Audit a push-down the duty list refused (or a street whistling for its own work)."""
    await session.execute(_INSERT_REFUSAL, dict(values))


async def whistles_of(session: AsyncSession, complaint_id: str) -> Sequence[Whistle]:
    query = (
        select(Whistle)
        .where(Whistle.complaint_id == complaint_id)
        .order_by(Whistle.round)
        .options(selectinload(Whistle.assignments))
    )
    return (await session.execute(query)).scalars().all()


async def whistle(session: AsyncSession, whistle_id: str) -> Whistle | None:
    query = select(Whistle).where(Whistle.id == whistle_id).options(selectinload(Whistle.assignments))
    return (await session.execute(query)).scalars().first()


async def whistles_by_id(session: AsyncSession, whistle_ids: Sequence[str]) -> Sequence[Whistle]:
    if not whistle_ids:
        return []
    query = select(Whistle).where(Whistle.id.in_(set(whistle_ids))).options(selectinload(Whistle.assignments))
    return (await session.execute(query)).scalars().all()


async def whistle_for_update(session: AsyncSession, whistle_id: str) -> Whistle | None:
    query = (
        select(Whistle)
        .where(Whistle.id == whistle_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalars().first()


async def assignments_of(
    session: AsyncSession, whistle_id: str, *, lock: bool = False
) -> Sequence[Assignment]:
    """The whistle's assignments in summoning order (locked, in that order, when asked)."""
    query = select(Assignment).where(Assignment.whistle_id == whistle_id).order_by(Assignment.position)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().all()


async def whistles_page(
    session: AsyncSession,
    *,
    street_code: str | None = None,
    district_code: str | None = None,
    statuses: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = 100,
    before: tuple[datetime, str] | None = None,
) -> Sequence[Whistle]:
    """A street's or a district's whistles, newest first; `before` is the keyset cursor."""
    query = select(Whistle).options(selectinload(Whistle.assignments))
    if street_code is not None:
        query = query.where(Whistle.street_code == street_code)
    if district_code is not None:
        query = query.where(Whistle.district_code == district_code)
    if statuses:
        query = query.where(Whistle.status.in_(statuses))
    if kinds:
        query = query.where(Whistle.kind.in_(kinds))
    if before is not None:
        query = query.where(tuple_(Whistle.issued_at, Whistle.id) < tuple_(*before))
    query = query.order_by(Whistle.issued_at.desc(), Whistle.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def open_whistles_for_update(session: AsyncSession, complaint_id: str) -> tuple[Sequence[Whistle], int]:
    """A complaint's open whistles, locked, and its latest round."""
    whistles = (
        (await session.execute(select(Whistle).where(Whistle.complaint_id == complaint_id).with_for_update()))
        .scalars()
        .all()
    )
    return [w for w in whistles if w.status == WHISTLE_OPEN], max((w.round for w in whistles), default=0)


async def end_whistles(
    session: AsyncSession, whistle_ids: Sequence[str], *, status: str, at: datetime
) -> None:
    if whistle_ids:
        await session.execute(
            update(Whistle).where(Whistle.id.in_(whistle_ids)).values(status=status, completed_at=at)
        )


async def open_assignments_of(session: AsyncSession, whistle_ids: Sequence[str]) -> Sequence[Assignment]:
    """The open assignments of these whistles, locked."""
    if not whistle_ids:
        return []
    query = (
        select(Assignment)
        .where(Assignment.whistle_id.in_(whistle_ids), Assignment.status.in_(OPEN))
        .order_by(Assignment.whistle_id, Assignment.position)
        .with_for_update()
    )
    return (await session.execute(query)).scalars().all()
