"""A community's whistles: those it blew (社区吹哨) and those of complaints in it, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.dispatch.models import Whistle


async def community_whistles_page(
    session: AsyncSession,
    *,
    community_code: str,
    statuses: Sequence[str] | None = None,
    limit: int = 100,
    before: tuple[datetime, str] | None = None,
) -> Sequence[Whistle]:
    query = (
        select(Whistle)
        .where(Whistle.community_code == community_code)
        .options(selectinload(Whistle.assignments))
    )
    if statuses:
        query = query.where(Whistle.status.in_(statuses))
    if before is not None:
        query = query.where(tuple_(Whistle.issued_at, Whistle.id) < tuple_(*before))
    query = query.order_by(Whistle.issued_at.desc(), Whistle.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()
