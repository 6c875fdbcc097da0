"""What dispatch's gauges read: open assignments per department and status, and since when the
oldest one nobody holds has waited. One statement for every department at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.lifecycle import OPEN, QUEUED

_OPEN = ", ".join(f"'{s}'" for s in OPEN)
_QUEUES = text(
    f"""
SELECT department_code, role, status, count(*) AS n,
       min(queued_at) FILTER (
           WHERE status = '{QUEUED}' AND (lease_expires_at IS NULL OR lease_expires_at <= :now)
       ) AS oldest_unclaimed
FROM dispatch.assignments
WHERE status IN ({_OPEN})
GROUP BY department_code, role, status
"""
)


@dataclass(frozen=True)
class QueueRow:
    department_code: str | None
    role: str
    status: str
    count: int
    oldest_unclaimed: datetime | None


async def open_work(session: AsyncSession, *, now: datetime) -> list[QueueRow]:
    rows = (await session.execute(_QUEUES, {"now": now})).all()
    return [QueueRow(r.department_code, r.role, r.status, int(r.n), r.oldest_unclaimed) for r in rows]
