"""NOTIFY on commit: work queued or given back for a department, escalation steps falling due.

PostgreSQL delivers a notification when the transaction that sent it commits (and drops it on
rollback), to every process listening (`services.dispatch.wakeups`), so a claim waiting in any
dispatch replica wakes as soon as work it may take is committed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "dispatch_signals"
WORK, STEPS = "work:", "steps"

_NOTIFY = text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p")


async def work_queued(session: AsyncSession, department_codes: Iterable[str | None]) -> None:
    """Wake the claims waiting on these departments' queues once this transaction commits."""
    payloads = sorted({WORK + code for code in department_codes if code})
    if payloads:
        await session.execute(_NOTIFY, {"channel": CHANNEL, "payloads": payloads})


async def steps_due(session: AsyncSession) -> None:
    """Wake the escalation job once this transaction commits (a step was scheduled)."""
    await session.execute(_NOTIFY, {"channel": CHANNEL, "payloads": [STEPS]})
