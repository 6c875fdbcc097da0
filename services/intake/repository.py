"""All SQL of intake."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Complaint, StatusChange


async def insert_if_new(session: AsyncSession, values: Mapping[str, object]) -> bool:
    """Insert the complaint unless source+source_ref exists; True if inserted."""
    result = await session.execute(
        insert(Complaint)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "source_ref"])
        .returning(Complaint.id)
    )
    return result.first() is not None


async def get(session: AsyncSession, complaint_id: str, *, for_update: bool = False) -> Complaint | None:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().first()


async def get_by_source(session: AsyncSession, source: str, source_ref: str) -> Complaint | None:
    query = select(Complaint).where(Complaint.source == source, Complaint.source_ref == source_ref)
    return (await session.execute(query)).scalars().first()


async def set_status(
    session: AsyncSession, complaint_id: str, status: str, *, at: datetime, unit_code: str | None, note: str
) -> None:
    await session.execute(
        update(Complaint).where(Complaint.id == complaint_id).values(status=status, updated_at=at)
    )
    session.add(StatusChange(complaint_id=complaint_id, status=status, unit_code=unit_code, note=note, at=at))
    await session.flush()
