"""SQL of whistles, clocks and their timers.

Lock order, everywhere: a clock's timer rows before the clock row. The timer claims due rows with
`SKIP LOCKED` and then updates their clocks; anything that stops or moves a clock deletes its timer
rows first. So the two never wait on each other in a circle, and a clock stopped before its
deadline has no timer row left to fire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.models import Clock, ComplaintFact, Timer, Whistle

CLOCKS = cast(Table, Clock.__table__)
TIMERS = cast(Table, Timer.__table__)
WHISTLES = cast(Table, Whistle.__table__)
FACTS = cast(Table, ComplaintFact.__table__)
ClockRow = Row[Any]


# --- whistles -------------------------------------------------------------------------------------


async def add_whistle(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record a whistle; False if it was known already (a repeated event)."""
    inserted = await session.execute(
        insert(WHISTLES).values(values).on_conflict_do_nothing().returning(WHISTLES.c.whistle_id)
    )
    return inserted.first() is not None


async def whistle(session: AsyncSession, whistle_id: str) -> Row[Any] | None:
    return (await session.execute(select(WHISTLES).where(WHISTLES.c.whistle_id == whistle_id))).first()


async def latest_whistle(session: AsyncSession, complaint_id: str) -> Row[Any] | None:
    """The complaint's current round."""
    query = (
        select(WHISTLES)
        .where(WHISTLES.c.complaint_id == complaint_id)
        .order_by(WHISTLES.c.round.desc(), WHISTLES.c.issued_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).first()


async def update_whistle(session: AsyncSession, whistle_id: str, **values: Any) -> None:
    await session.execute(update(WHISTLES).where(WHISTLES.c.whistle_id == whistle_id).values(**values))


async def mark_merged(session: AsyncSession, complaint_id: str, into: str) -> None:
    await session.execute(
        update(WHISTLES).where(WHISTLES.c.complaint_id == complaint_id).values(merged_into=into)
    )


async def note_fact(session: AsyncSession, complaint_id: str, **values: Any) -> None:
    """Keep what the hotline said of a complaint (see `ComplaintFact`)."""
    await session.execute(
        insert(FACTS)
        .values(complaint_id=complaint_id, **values)
        .on_conflict_do_update(index_elements=[FACTS.c.complaint_id], set_=values)
    )


async def fact(session: AsyncSession, complaint_id: str) -> Row[Any] | None:
    return (await session.execute(select(FACTS).where(FACTS.c.complaint_id == complaint_id))).first()


# --- clocks ---------------------------------------------------------------------------------------


async def start_clocks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert clocks with their warning and breach timers; the ids of those that were new."""
    if not rows:
        return set()
    inserted = await session.execute(
        insert(CLOCKS).on_conflict_do_nothing().returning(CLOCKS.c.clock_id), list(rows)
    )
    new = {r[0] for r in inserted}
    timers = [
        t
        for r in rows
        if r["clock_id"] in new
        for t in (
            {"clock_id": r["clock_id"], "kind": "warning", "fire_at": r["warn_at"]},
            {"clock_id": r["clock_id"], "kind": "breach", "fire_at": r["due_at"]},
        )
    ]
    if timers:
        await session.execute(insert(TIMERS), timers)
    return new


async def running(
    session: AsyncSession,
    *,
    whistle_id: str | None = None,
    assignment_id: str | None = None,
    complaint_id: str | None = None,
    stages: Sequence[str] | None = None,
    unit_code: str | None = None,
) -> list[ClockRow]:
    query = (
        select(CLOCKS).where(CLOCKS.c.status == "running").order_by(CLOCKS.c.started_at, CLOCKS.c.clock_id)
    )
    if whistle_id is not None:
        query = query.where(CLOCKS.c.whistle_id == whistle_id)
    if assignment_id is not None:
        query = query.where(CLOCKS.c.assignment_id == assignment_id)
    if complaint_id is not None:
        query = query.where(CLOCKS.c.complaint_id == complaint_id)
    if stages is not None:
        query = query.where(CLOCKS.c.stage.in_(list(stages)))
    if unit_code is not None:
        query = query.where(CLOCKS.c.unit_code == unit_code)
    return list((await session.execute(query)).all())


async def stop(
    session: AsyncSession, clock_id: str, *, status: str, reason: str, at: datetime
) -> ClockRow | None:
    """Stop a running clock (its timers first); None if it was no longer running."""
    await session.execute(delete(TIMERS).where(TIMERS.c.clock_id == clock_id))
    stopped = await session.execute(
        update(CLOCKS)
        .where(CLOCKS.c.clock_id == clock_id, CLOCKS.c.status == "running")
        .values(status=status, reason=reason[:200], stopped_at=at)
        .returning(*CLOCKS.c)
    )
    return stopped.first()


async def move(
    session: AsyncSession, clock: ClockRow, *, due_at: datetime, warn_at: datetime, extension_id: str
) -> ClockRow:
    """Give a running clock a new deadline: its timers are replaced (a warning or breach that fired
    already does not fire again)."""
    await session.execute(delete(TIMERS).where(TIMERS.c.clock_id == clock.clock_id))
    moved = await session.execute(
        update(CLOCKS)
        .where(CLOCKS.c.clock_id == clock.clock_id)
        .values(due_at=due_at, warn_at=warn_at, extension_id=extension_id[:64])
        .returning(*CLOCKS.c)
    )
    row = moved.one()
    timers = []
    if row.warned_at is None:
        timers.append({"clock_id": row.clock_id, "kind": "warning", "fire_at": warn_at})
    if row.breached_at is None:
        timers.append({"clock_id": row.clock_id, "kind": "breach", "fire_at": due_at})
    if timers:
        await session.execute(insert(TIMERS), timers)
    return row


async def clocks_of(session: AsyncSession, complaint_id: str) -> list[ClockRow]:
    query = (
        select(CLOCKS)
        .where(CLOCKS.c.complaint_id == complaint_id)
        .order_by(CLOCKS.c.started_at, CLOCKS.c.stage, CLOCKS.c.unit_code)
    )
    return list((await session.execute(query)).all())


# --- the timer ------------------------------------------------------------------------------------


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[tuple[str, str]]:
    """Take (delete) up to `limit` due timer rows no other replica holds: (clock id, kind)."""
    due = (
        select(TIMERS.c.clock_id, TIMERS.c.kind)
        .where(TIMERS.c.fire_at <= now)
        .order_by(TIMERS.c.fire_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    taken = await session.execute(
        delete(TIMERS)
        .where(TIMERS.c.clock_id == due.c.clock_id, TIMERS.c.kind == due.c.kind)
        .returning(TIMERS.c.clock_id, TIMERS.c.kind)
    )
    return [(r[0], r[1]) for r in taken]


async def mark_fired(
    session: AsyncSession, clock_ids: Sequence[str], *, kind: str, at: datetime
) -> list[ClockRow]:
    """Note the warning or breach of these clocks as emitted at `at` (once: an earlier note stays)."""
    if not clock_ids:
        return []
    column = CLOCKS.c.warned_at if kind == "warning" else CLOCKS.c.breached_at
    marked = await session.execute(
        update(CLOCKS)
        .where(CLOCKS.c.clock_id.in_(list(clock_ids)), column.is_(None))
        .values({column.name: at})
        .returning(*CLOCKS.c)
    )
    return list(marked.all())


async def forget_timer(session: AsyncSession, clock_id: str, kind: str) -> None:
    await session.execute(delete(TIMERS).where(TIMERS.c.clock_id == clock_id, TIMERS.c.kind == kind))


async def next_fire_at(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(TIMERS.c.fire_at)))).scalar_one_or_none()


async def timer_rows(session: AsyncSession) -> list[Row[Any]]:
    """Every pending timer (for checks and tests)."""
    return list((await session.execute(select(TIMERS).order_by(TIMERS.c.clock_id, TIMERS.c.kind))).all())
