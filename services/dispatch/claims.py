"""Claiming work from a department's queue, with long polling (the rules are in `leases`).

A claim answers at once when there is work; otherwise it waits up to `wait_seconds`, asleep until a
commit queues or releases work for the department (`wakeups`) or the department's next lease runs
out, and then looks again. Each look is a transaction of its own, committed before the claim
answers or sleeps: a waiting claim holds no transaction, no lock and no connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.dispatch import assignments, leases, metrics
from services.dispatch.models import Assignment
from services.dispatch.repository import claims as claim_rows
from services.dispatch.wakeups import Wakeups
from shared.events import utcnow
from shared.logging import get_logger
from shared.messaging_tables import Outbox

log = get_logger(__name__)

MARGIN_SECONDS = 0.005  # wake just after a lease runs out, not just before


@dataclass(frozen=True)
class Claimed:
    items: list[Assignment]
    lease_expires_at: datetime | None


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    wakeups: Wakeups,
    *,
    department_code: str,
    worker: str,
    max: int,
    wait_seconds: float,
    lease_seconds: int,
    sign_off: Outbox | None = None,
) -> Claimed:
    """Lease up to `max` of the department's oldest open assignments to `worker`; with `sign_off`
    (the outbox for the events), sign off (签收) those still queued in the same transaction."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        woken = wakeups.work_event(department_code)  # taken before looking: no commit slips by
        async with sessions() as session, session.begin():
            now = utcnow()
            until = now + timedelta(seconds=lease_seconds)
            items = await claim_rows.claim(
                session,
                department_code=department_code,
                worker=worker,
                max=max,
                now=now,
                until=until,
                sign_off=sign_off is not None,
            )
            if items and sign_off is not None:
                await assignments.announce_signed_off(session, items, outbox=sign_off, now=now)
            next_expiry = (
                None
                if items
                else await claim_rows.next_expiry(session, department_code=department_code, now=now)
            )
        if items:
            log.debug("dispatch.claimed", department=department_code, worker=worker, items=len(items))
            metrics.CLAIMED.labels(department_code).inc(len(items))
            return Claimed(items, until)
        remaining = deadline - loop.time()
        if remaining <= 0:
            return Claimed([], None)
        pause = leases.wait_for(remaining=remaining, next_expiry=next_expiry, now=utcnow())
        await wakeups.wait(woken, pause + (MARGIN_SECONDS if next_expiry is not None else 0))
