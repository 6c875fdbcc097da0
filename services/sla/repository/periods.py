"""SQL of closed periods and the scores published when they closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.models import ClosedPeriod, PublishedScore

PERIODS = cast(Table, ClosedPeriod.__table__)
PUBLISHED = cast(Table, PublishedScore.__table__)


async def lock(session: AsyncSession, period: str) -> None:
    """Serialise closing (and evaluating) a period across replicas until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('sla.period:' || :p))"), {"p": period})


async def closed(session: AsyncSession, period: str) -> Row[Any] | None:
    return (await session.execute(select(PERIODS).where(PERIODS.c.period == period))).first()


async def closed_among(session: AsyncSession, periods: Sequence[str]) -> set[str]:
    found = await session.execute(select(PERIODS.c.period).where(PERIODS.c.period.in_(list(periods))))
    return {r[0] for r in found}


async def close(session: AsyncSession, period: str, *, at: datetime, by: str) -> bool:
    """Mark a period closed; False if it was closed already."""
    done = await session.execute(
        insert(PERIODS)
        .values(period=period, closed_at=at, closed_by=by)
        .on_conflict_do_nothing()
        .returning(PERIODS.c.period)
    )
    return done.first() is not None


async def publish(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(PUBLISHED).on_conflict_do_nothing(), list(rows))


async def published(session: AsyncSession, period: str, level: str) -> list[dict[str, Any]]:
    query = select(PUBLISHED.c.row).where(PUBLISHED.c.period == period, PUBLISHED.c.level == level)
    return [r[0] for r in await session.execute(query)]
