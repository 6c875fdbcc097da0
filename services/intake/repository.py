"""Intake's SQL for complaints, their changes, handling units, follow-ups and merges (the timeline,
the Open311 update stream, searches by change and residents' updates are in `timeline_repository`).

Every change to a complaint sets `recorded_at` from the database's clock: what an Open311 sync
follows (`updated_datetime`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import Select, Table, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import (
    Complaint,
    ContactRead,
    Feedback,
    HandlingUnit,
    Merge,
    StatusChange,
)
from shared.messaging_tables import OutboxRow, outbox_insert

# --- complaints -----------------------------------------------------------------------------------


# Built once: the filing hot path binds parameters to a compiled statement instead of building a
# new statement from values on every request.
_COMPLAINTS = cast(Table, Complaint.__table__)
_INSERT_COMPLAINT = insert(_COMPLAINTS).on_conflict_do_nothing().returning(_COMPLAINTS.c.id)
_STATUS_CHANGES = cast(Table, StatusChange.__table__)


# Bound as JSON text and cast in SQL: asyncpg passes json and jsonb as text by default.
_JSON_COLUMNS = frozenset(c.name for c in _COMPLAINTS.columns if isinstance(c.type, JSONB))


@lru_cache(maxsize=8)
def _new_complaint_sql(columns: tuple[str, ...]) -> str:
    """The complaint and its first timeline entry ($1 … $n the columns, $n+1 the note), as CTEs."""
    placeholders = ", ".join(
        f"${i}::text::jsonb" if name in _JSON_COLUMNS else f"${i}" for i, name in enumerate(columns, 1)
    )
    return f"""complaint AS (
    INSERT INTO {_COMPLAINTS.fullname} ({", ".join(columns)}) VALUES ({placeholders})
    ON CONFLICT DO NOTHING
    RETURNING id, created_at
), timeline AS (
    INSERT INTO {_STATUS_CHANGES.fullname} (complaint_id, status, kind, note, at)
    SELECT id, 'received', 'filed', ${len(columns) + 1}, created_at FROM complaint
)"""


async def file_in_one_statement(
    connection: Any, values: Mapping[str, Any], *, note: str, outbox: Table, event: OutboxRow
) -> bool:
    """Write a new complaint (`values`: its columns), its first timeline entry (at its created_at)
    and its event's outbox row in one statement (one round trip, atomic on its own) on a raw asyncpg
    connection. False if it existed: then nothing is written."""
    columns = tuple(values)
    # The outbox row waits on the complaint's insert: a complaint filed before announces nothing.
    event_sql = outbox_insert(outbox, [event], first=len(columns) + 2, when="EXISTS (SELECT FROM complaint)")
    sql = f"""
WITH {_new_complaint_sql(columns)}, {event_sql.locks}, event AS (
{event_sql.insert}
)
SELECT id FROM complaint"""
    params = [orjson.dumps(values[c]).decode() if c in _JSON_COLUMNS else values[c] for c in columns]
    row = await connection.fetchrow(sql, *params, note, *event_sql.params)
    return row is not None


async def insert_if_new(session: AsyncSession, values: Mapping[str, object]) -> bool:
    """Insert the complaint unless its source reference or idempotency key exists; True if inserted."""
    result = await session.execute(_INSERT_COMPLAINT, dict(values))
    return result.first() is not None


async def get(session: AsyncSession, complaint_id: str, *, for_update: bool = False) -> Complaint | None:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().first()


async def get_by_source_ref(session: AsyncSession, source: str, source_ref: str) -> Complaint | None:
    query = select(Complaint).where(Complaint.source == source, Complaint.source_ref == source_ref)
    return (await session.execute(query)).scalars().first()


async def get_by_idempotency_key(session: AsyncSession, source: str, key: str) -> Complaint | None:
    query = select(Complaint).where(Complaint.source == source, Complaint.idempotency_key == key)
    return (await session.execute(query)).scalars().first()


async def get_by_token(session: AsyncSession, token: str) -> Complaint | None:
    query = select(Complaint).where(Complaint.tracking_token == token)
    return (await session.execute(query)).scalars().first()


async def get_many(session: AsyncSession, ids: Collection[str]) -> list[Complaint]:
    """The complaints with these ids, in the order they last changed."""
    if not ids:
        return []
    query = select(Complaint).where(Complaint.id.in_(list(ids))).order_by(Complaint.recorded_at, Complaint.id)
    return list((await session.execute(query)).scalars())


async def update_complaint(session: AsyncSession, complaint_id: str, **values: Any) -> None:
    """Change a complaint's columns (a change Open311 clients see: `recorded_at` moves)."""
    await session.execute(
        update(Complaint)
        .where(Complaint.id == complaint_id)
        .values(**values, recorded_at=func.clock_timestamp())
    )


async def merged_into(session: AsyncSession, root_id: str, *, for_update: bool = False) -> list[Complaint]:
    """The complaints merged into this one."""
    query = select(Complaint).where(Complaint.merged_into == root_id).order_by(Complaint.created_at)
    if for_update:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class Candidate:
    id: str
    lat: float
    lon: float
    created_at: datetime


async def merge_candidates(
    session: AsyncSession,
    *,
    category: str,
    since: datetime,
    lat: float,
    lon: float,
    dlat: float,
    dlon: float,
    statuses: Collection[str],
    limit: int = 50,
) -> list[Candidate]:
    """Open, unmerged complaints of the category filed since `since` within a lat/lon box."""
    query = (
        select(Complaint.id, Complaint.lat, Complaint.lon, Complaint.created_at)
        .where(
            Complaint.category == category,
            Complaint.merged_into.is_(None),
            Complaint.created_at >= since,
            Complaint.status.in_(list(statuses)),
            Complaint.lat.between(lat - dlat, lat + dlat),
            Complaint.lon.between(lon - dlon, lon + dlon),
        )
        .order_by(Complaint.created_at)
        .limit(limit)
    )
    rows = await session.execute(query)
    return [
        Candidate(r.id, r.lat, r.lon, r.created_at) for r in rows if r.lat is not None and r.lon is not None
    ]


@dataclass(frozen=True)
class ComplaintFilter:
    statuses: Sequence[str] = ()
    categories: Sequence[str] = ()
    street: str | None = None
    community: str | None = None
    sub_area: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    ids: Sequence[str] = ()
    handled_by_department: str | None = None
    followup_requested: bool | None = None


def filtered(where: ComplaintFilter) -> Select[Complaint]:
    query = select(Complaint)
    if where.ids:
        query = query.where(Complaint.id.in_(list(where.ids)))
    if where.statuses:
        query = query.where(Complaint.status.in_(list(where.statuses)))
    if where.categories:
        query = query.where(Complaint.category.in_(list(where.categories)))
    if where.street:
        query = query.where(Complaint.street_code == where.street)
    if where.community:
        query = query.where(Complaint.community_code == where.community)
    if where.sub_area:
        query = query.where(Complaint.sub_area_code == where.sub_area)
    if where.created_from:
        query = query.where(Complaint.created_at >= where.created_from)
    if where.created_to:
        query = query.where(Complaint.created_at < where.created_to)
    if where.handled_by_department:
        handled = select(HandlingUnit.complaint_id).where(
            HandlingUnit.department_code == where.handled_by_department
        )
        query = query.where(or_(Complaint.id.in_(handled), Complaint.merged_into.in_(handled)))
    if where.followup_requested is not None:
        flagged = Complaint.followup_requested_at
        query = query.where(flagged.is_not(None) if where.followup_requested else flagged.is_(None))
    return query


async def list_complaints(
    session: AsyncSession, where: ComplaintFilter, *, limit: int, after: tuple[datetime, str] | None = None
) -> list[Complaint]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    query = filtered(where)
    if after is not None:
        query = query.where(tuple_(Complaint.created_at, Complaint.id) < tuple_(*after))
    query = query.order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


# --- what event handlers read and write -----------------------------------------------------------


@dataclass(frozen=True)
class ComplaintState:
    """The columns dispatch and SLA events move, locked for the event's transaction."""

    id: str
    status: str
    whistle_id: str | None
    lead_unit_code: str | None
    reporter_count: int


_STATE_COLUMNS = "id, status, whistle_id, lead_unit_code, reporter_count"


async def lock_state(session: AsyncSession, complaint_id: str) -> ComplaintState | None:
    connection = await session.connection()
    row = (
        await connection.exec_driver_sql(
            f"SELECT {_STATE_COLUMNS} FROM {_COMPLAINTS.fullname} WHERE id = $1 FOR UPDATE", (complaint_id,)
        )
    ).first()
    return ComplaintState(*tuple(row)) if row is not None else None


async def lock_merged_states(session: AsyncSession, root: ComplaintState) -> list[ComplaintState]:
    """The complaints merged into this one, locked (none to look for when it has one reporter)."""
    if root.reporter_count <= 1:
        return []
    connection = await session.connection()
    rows = await connection.exec_driver_sql(
        f"SELECT {_STATE_COLUMNS} FROM {_COMPLAINTS.fullname} WHERE merged_into = $1 "
        "ORDER BY created_at FOR UPDATE",
        (root.id,),
    )
    return [ComplaintState(*tuple(r)) for r in rows]


_CHANGE_SQL: dict[tuple[str, ...], str] = {}


_ENTRY_COLUMNS = ("status", "kind", "result", "unit_code", "note", "at")


def _change_sql(columns: tuple[str, ...], with_entry: bool) -> str:
    key = (*columns, "+entry" if with_entry else "")
    if key not in _CHANGE_SQL:
        sets = ", ".join(
            [*(f"{c} = ${i}" for i, c in enumerate(columns, 2)), "recorded_at = clock_timestamp()"]
        )
        update = f"UPDATE {_COMPLAINTS.fullname} SET {sets} WHERE id = $1"
        if with_entry:
            first = len(columns) + 2
            values = ", ".join(f"${i}" for i in range(first, first + len(_ENTRY_COLUMNS)))
            update = (
                f"WITH changed AS ({update}) INSERT INTO {_STATUS_CHANGES.fullname} "
                f"(complaint_id, {', '.join(_ENTRY_COLUMNS)}) VALUES ($1, {values})"
            )
        _CHANGE_SQL[key] = update
    return _CHANGE_SQL[key]


@dataclass(frozen=True)
class Entry:
    """A timeline entry: the change (`kind`, see status.py) and the status it leaves the complaint in."""

    status: str
    kind: str
    at: datetime
    unit_code: str | None
    note: str
    result: str | None = None


async def change(
    session: AsyncSession, complaint_id: str, values: Mapping[str, Any], entry: Entry | None = None
) -> None:
    """Update a complaint's columns and, with an entry, set its status and add the entry to the
    timeline: one statement."""
    columns = tuple(values)
    if entry is not None:
        columns = (*columns, "status", "updated_at")
        values = {**values, "status": entry.status, "updated_at": entry.at}
    if not columns:
        return
    params: tuple[Any, ...] = (complaint_id, *(values[c] for c in columns))
    if entry is not None:
        params = (*params, *(getattr(entry, c) for c in _ENTRY_COLUMNS))
    connection = await session.connection()
    await connection.exec_driver_sql(_change_sql(columns, entry is not None), params)


async def set_followup_requested(session: AsyncSession, complaint_id: str, at: datetime | None) -> None:
    """Mark (or, with None, clear) a resident's request for a follow-up of the complaint."""
    await update_complaint(session, complaint_id, followup_requested_at=at)


# --- handling units -------------------------------------------------------------------------------


_INSERT_HANDLING_UNIT = insert(HandlingUnit).on_conflict_do_nothing()


async def add_handling_units(session: AsyncSession, rows: Sequence[Mapping[str, object]]) -> None:
    if rows:
        await session.execute(_INSERT_HANDLING_UNIT, [dict(r) for r in rows])


async def handling_units(session: AsyncSession, complaint_id: str) -> list[HandlingUnit]:
    query = select(HandlingUnit).where(HandlingUnit.complaint_id == complaint_id)
    return list((await session.execute(query)).scalars())


async def is_earlier_whistle(
    session: AsyncSession, complaint_id: str, whistle_id: str, current: str | None
) -> bool:
    """Whether `whistle_id` is a whistle of this complaint other than the current one."""
    if whistle_id == current:
        return False
    query = select(func.count()).where(
        HandlingUnit.complaint_id == complaint_id, HandlingUnit.whistle_id == whistle_id
    )
    return bool((await session.execute(query)).scalar_one())


# --- follow-up, audit, merges ---------------------------------------------------------------------


def add_feedback(session: AsyncSession, **values: Any) -> Feedback:
    row = Feedback(**values)
    session.add(row)
    return row


async def latest_feedback(session: AsyncSession, complaint_id: str) -> Feedback | None:
    query = (
        select(Feedback).where(Feedback.complaint_id == complaint_id).order_by(Feedback.id.desc()).limit(1)
    )
    return (await session.execute(query)).scalars().first()


def add_contact_read(session: AsyncSession, **values: Any) -> None:
    session.add(ContactRead(**values))


async def contact_reads(session: AsyncSession, complaint_id: str) -> list[ContactRead]:
    query = select(ContactRead).where(ContactRead.complaint_id == complaint_id).order_by(ContactRead.id)
    return list((await session.execute(query)).scalars())


def add_merge(session: AsyncSession, **values: Any) -> None:
    session.add(Merge(**values))


async def active_merge(session: AsyncSession, complaint_id: str) -> Merge | None:
    query = select(Merge).where(Merge.complaint_id == complaint_id, Merge.undone_at.is_(None))
    return (await session.execute(query)).scalars().first()
