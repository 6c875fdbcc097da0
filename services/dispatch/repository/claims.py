"""Claims: hand a worker the department's oldest open work nobody holds, never to two workers.

One statement: the candidates are the expired leases (`ix_assignments_leased`, a range up to now)
and the open work never leased or given back (`ix_assignments_claimable`, oldest first), each
read with `FOR UPDATE SKIP LOCKED` — rows another claim is taking are passed over, not waited
for — then the oldest `max` of them are leased in the same statement. A lease running out is only
a time in a column: the next claim takes the order as expired work. A claim may also sign off
(签收) what it hands out, in the same statement, as `lifecycle` allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.lifecycle import OPEN, TRANSITIONS
from services.dispatch.models import Assignment

_OPEN = ", ".join(f"'{s}'" for s in OPEN)
_SIGN_OFF_FROM, _SIGNED = TRANSITIONS["sign_off"]
_SIGNABLE = ", ".join(f"'{s}'" for s in sorted(_SIGN_OFF_FROM))
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
SET worker = :worker, lease_expires_at = :until, lease_seconds = :seconds,
    status = CASE WHEN :sign_off AND a.status IN ({_SIGNABLE}) THEN '{_SIGNED}' ELSE a.status END,
    signed_off_at = CASE WHEN :sign_off AND a.status IN ({_SIGNABLE}) THEN :now ELSE a.signed_off_at END
FROM picked WHERE a.id = picked.id
RETURNING a.*
"""
)


async def claim(
    session: AsyncSession,
    *,
    department_code: str,
    worker: str,
    max: int,
    now: datetime,
    until: datetime,
    sign_off: bool = False,
) -> list[Assignment]:
    """Lease up to `max` of the department's open assignments to `worker` until `until`, oldest first;
    with `sign_off`, those the state machine lets be signed off are signed off at `now` in the same
    statement (the caller announces them: `signed_off_at == now`)."""
    statement = select(Assignment).from_statement(_CLAIM).execution_options(populate_existing=True)
    params = {
        "department": department_code,
        "worker": worker,
        "max": max,
        "now": now,
        "until": until,
        "seconds": round((until - now).total_seconds()),
        "sign_off": sign_off,
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
