"""Claims: hand a worker the department's oldest open work nobody holds, never to two workers.

One statement: the candidates are the expired leases (`ix_assignments_leased`, a range up to now)
and the open work never leased or given back (`ix_assignments_claimable`, oldest first), each
read with `FOR UPDATE SKIP LOCKED` — rows another claim is taking are passed over, not waited
for — then the oldest `max` of them are leased in the same statement. A lease running out is only
a time in a column: the next claim takes the order as expired work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.lifecycle import OPEN
from services.dispatch.models import Assignment

_OPEN = ", ".join(f"'{s}'" for s in OPEN)
_CLAIM = text(
    f"""
WITH expired AS (
    SELECT id, queued_at FROM dispatch.assignments
    WHERE department_code = :department AND lease_expires_at <= :now AND status IN ({_OPEN})
    ORDER BY queued_at, id LIMIT :max
    FOR UPDATE SKIP LOCKED
), fresh AS (
    SELECT id, queued_at FROM dispatch.assignments
    WHERE department_code = :department AND lease_expires_at IS NULL AND status IN ({_OPEN})
    ORDER BY queued_at, id LIMIT :max
    FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM fresh) AS candidates
    ORDER BY queued_at, id LIMIT :max
)
UPDATE dispatch.assignments AS a
SET worker = :worker, lease_expires_at = :until, lease_seconds = :seconds
FROM picked WHERE a.id = picked.id
RETURNING a.*
"""
)


async def claim(
    session: AsyncSession, *, department_code: str, worker: str, max: int, now: datetime, until: datetime
) -> list[Assignment]:
    """Lease up to `max` of the department's open assignments to `worker` until `until`, oldest first."""
    statement = select(Assignment).from_statement(_CLAIM).execution_options(populate_existing=True)
    params = {
        "department": department_code,
        "worker": worker,
        "max": max,
        "now": now,
        "until": until,
        "seconds": round((until - now).total_seconds()),
    }
    rows = (await session.execute(statement, params)).scalars().all()
    return sorted(rows, key=lambda a: (a.queued_at, a.id))


async def next_expiry(session: AsyncSession, *, department_code: str, now: datetime) -> datetime | None:
    """When the department's next running lease runs out (its order is then offered again)."""
    query = select(func.min(Assignment.lease_expires_at)).where(
        Assignment.department_code == department_code, Assignment.lease_expires_at > now
    )
    return (await session.execute(query)).scalar_one_or_none()


async def held_by(
    session: AsyncSession, *, department_code: str, worker: str, now: datetime
) -> Sequence[str]:
    """The assignments a worker holds now (what `release` would give back)."""
    query = select(Assignment.id).where(
        Assignment.department_code == department_code,
        Assignment.worker == worker,
        Assignment.lease_expires_at > now,
    )
    return (await session.execute(query)).scalars().all()
