"""Intake's SQL for what changed: the timeline, the Open311 update stream read from it, Open311
searches by change, and residents' own updates.

Windows are read by when intake *recorded* a change (`recorded_at`, the database's clock at insert
or update), ascending, and stop at a settle horizon a few seconds before the database's now: a
change written by a transaction that commits late cannot fall behind a window a client already read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Interval, Table, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Complaint, ResidentUpdate, StatusChange
from services.intake.repository import ComplaintFilter, Entry, filtered

_STATUS_CHANGES = cast(Table, StatusChange.__table__)
_INSERT_ENTRY = insert(_STATUS_CHANGES).returning(_STATUS_CHANGES.c.id)


def settled(column: Any, end: datetime, settle_seconds: float) -> Any:
    """`column` at most `end`, and older than the settle horizon by the database's clock."""
    horizon = func.clock_timestamp() - literal(timedelta(seconds=settle_seconds), Interval())
    return column <= func.least(end, horizon)


@dataclass(frozen=True)
class Window:
    """A span of recorded changes to read: [start, end], settled, at most `limit` rows from `offset`."""

    start: datetime
    end: datetime
    settle_seconds: float
    limit: int
    offset: int = 0


# --- the timeline ---------------------------------------------------------------------------------


def _entry_values(complaint_id: str, entry: Entry) -> dict[str, Any]:
    return dict(
        complaint_id=complaint_id,
        status=entry.status,
        kind=entry.kind,
        result=entry.result,
        unit_code=entry.unit_code,
        note=entry.note,
        at=entry.at,
    )


def add_entry(session: AsyncSession, complaint_id: str, entry: Entry) -> None:
    """Add an entry to the complaint's timeline (written with the session's next flush)."""
    session.add(StatusChange(**_entry_values(complaint_id, entry)))


async def insert_entry(session: AsyncSession, complaint_id: str, entry: Entry) -> int:
    """The same as `add_entry`, written at once: the entry's id."""
    return int((await session.execute(_INSERT_ENTRY, _entry_values(complaint_id, entry))).scalar_one())


async def timeline(session: AsyncSession, complaint_id: str) -> list[StatusChange]:
    query = select(StatusChange).where(StatusChange.complaint_id == complaint_id).order_by(StatusChange.id)
    return list((await session.execute(query)).scalars())


async def stream(
    session: AsyncSession, window: Window, *, kinds: Sequence[str], complaint_ids: Sequence[str] = ()
) -> list[StatusChange]:
    """Timeline entries of these kinds recorded in the window, in the order they were recorded."""
    query = select(StatusChange).where(
        StatusChange.kind.in_(list(kinds)),
        StatusChange.recorded_at >= window.start,
        settled(StatusChange.recorded_at, window.end, window.settle_seconds),
    )
    if complaint_ids:
        query = query.where(StatusChange.complaint_id.in_(list(complaint_ids)))
    query = (
        query.order_by(StatusChange.recorded_at, StatusChange.id).offset(window.offset).limit(window.limit)
    )
    return list((await session.execute(query)).scalars())


async def list_changed(session: AsyncSession, where: ComplaintFilter, window: Window) -> list[Complaint]:
    """Complaints that last changed in the window, in the order they changed (an Open311 search)."""
    query = (
        filtered(where)
        .where(
            Complaint.recorded_at >= window.start,
            settled(Complaint.recorded_at, window.end, window.settle_seconds),
        )
        .order_by(Complaint.recorded_at, Complaint.id)
        .offset(window.offset)
        .limit(window.limit)
    )
    return list((await session.execute(query)).scalars())


# --- residents' updates ---------------------------------------------------------------------------

_RESIDENT_UPDATES = cast(Table, ResidentUpdate.__table__)
_INSERT_RESIDENT_UPDATE = (
    insert(_RESIDENT_UPDATES)
    .on_conflict_do_nothing(index_elements=["client_id", "client_update_id"])
    .returning(_RESIDENT_UPDATES.c.id)
)


async def insert_resident_update(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Store a resident's update; None when the client sent this update id before."""
    return cast(int | None, (await session.execute(_INSERT_RESIDENT_UPDATE, values)).scalar_one_or_none())


async def resident_update_by_client_id(
    session: AsyncSession, client_id: str, client_update_id: str
) -> ResidentUpdate | None:
    query = select(ResidentUpdate).where(
        ResidentUpdate.client_id == client_id, ResidentUpdate.client_update_id == client_update_id
    )
    return (await session.execute(query)).scalars().first()


async def link_entry(session: AsyncSession, update_id: int, entry_id: int) -> None:
    await session.execute(
        update(ResidentUpdate).where(ResidentUpdate.id == update_id).values(entry_id=entry_id)
    )


async def resident_updates(session: AsyncSession, complaint_id: str) -> list[ResidentUpdate]:
    query = (
        select(ResidentUpdate).where(ResidentUpdate.complaint_id == complaint_id).order_by(ResidentUpdate.id)
    )
    return list((await session.execute(query)).scalars())
