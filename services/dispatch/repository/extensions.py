"""Extension requests: one pending per assignment, the approvers' lists, what was approved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.extensions import APPROVED, LAPSED, PENDING
from services.dispatch.models import ExtensionRequest


def add(session: AsyncSession, request: ExtensionRequest) -> None:
    session.add(request)


async def request(session: AsyncSession, extension_id: str, *, lock: bool = False) -> ExtensionRequest | None:
    query = select(ExtensionRequest).where(ExtensionRequest.id == extension_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().first()


async def pending_for(session: AsyncSession, assignment_id: str) -> ExtensionRequest | None:
    query = select(ExtensionRequest).where(
        ExtensionRequest.assignment_id == assignment_id, ExtensionRequest.status == PENDING
    )
    return (await session.execute(query)).scalars().first()


async def approved_for(session: AsyncSession, assignment_id: str) -> Sequence[ExtensionRequest]:
    query = (
        select(ExtensionRequest)
        .where(ExtensionRequest.assignment_id == assignment_id, ExtensionRequest.status == APPROVED)
        .order_by(ExtensionRequest.decided_at)
    )
    return (await session.execute(query)).scalars().all()


async def requests_page(
    session: AsyncSession,
    *,
    street_code: str | None = None,
    district_code: str | None = None,
    department_code: str | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = 100,
    after: tuple[datetime, str] | None = None,
) -> Sequence[ExtensionRequest]:
    """Requests in a street, district or department, oldest first (what an approver works through)."""
    query = select(ExtensionRequest)
    if street_code is not None:
        query = query.where(ExtensionRequest.street_code == street_code)
    if district_code is not None:
        query = query.where(ExtensionRequest.district_code == district_code)
    if department_code is not None:
        query = query.where(ExtensionRequest.department_code == department_code)
    if statuses:
        query = query.where(ExtensionRequest.status.in_(statuses))
    if after is not None:
        query = query.where(tuple_(ExtensionRequest.requested_at, ExtensionRequest.id) > tuple_(*after))
    query = query.order_by(ExtensionRequest.requested_at, ExtensionRequest.id).limit(limit)
    return (await session.execute(query)).scalars().all()


async def lapse_pending(session: AsyncSession, assignment_ids: Sequence[str], *, at: datetime) -> None:
    """Pending requests of assignments that ended lapse: nothing is left to extend."""
    if assignment_ids:
        await session.execute(
            update(ExtensionRequest)
            .where(ExtensionRequest.assignment_id.in_(assignment_ids), ExtensionRequest.status == PENDING)
            .values(status=LAPSED, decided_at=at)
        )
