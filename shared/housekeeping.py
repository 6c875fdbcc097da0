"""House-keeping of the messaging tables: old rows pruned in small batches, outbox gauges kept fresh.

Sent outbox rows and inbox rows older than the retention are deleted a thousand at a time, with a
pause between batches, so pruning never holds long locks or floods the WAL. Rows set aside by the
relay are kept (an operator looks at them). An inbox row older than the retention no longer stops a
redelivery of its event; the retention (7 days by default) is far longer than any redelivery window.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.aio import sleep_unless
from shared.events import utcnow
from shared.logging import get_logger
from shared.messaging_tables import PENDING_WHERE, MessagingTables
from shared.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_SET_ASIDE, PRUNED

log = get_logger(__name__)

PRUNE_BATCH = 1000


async def prune(engine: AsyncEngine, tables: MessagingTables, *, older_than: timedelta, service: str) -> int:
    """Delete sent outbox rows and inbox rows older than `older_than`; how many were deleted."""
    cutoff = utcnow() - older_than
    statements = {
        "outbox": (
            tables.outbox,
            f"DELETE FROM {tables.outbox.fullname} WHERE id IN (SELECT id FROM {tables.outbox.fullname} "
            f"WHERE sent_at IS NOT NULL AND sent_at < $1 LIMIT {PRUNE_BATCH})",
        ),
        "inbox": (
            tables.inbox,
            f"DELETE FROM {tables.inbox.fullname} WHERE (consumer, event_id) IN (SELECT consumer, event_id "
            f"FROM {tables.inbox.fullname} WHERE processed_at < $1 LIMIT {PRUNE_BATCH})",
        ),
    }
    total = 0
    for name, (_table, sql) in statements.items():
        while True:
            async with engine.begin() as connection:
                result = await connection.exec_driver_sql(sql, (cutoff,))
            deleted = int(result.rowcount or 0)
            total += deleted
            PRUNED.labels(service, name).inc(deleted)
            if deleted < PRUNE_BATCH:
                break
            await asyncio.sleep(0.05)
    if total:
        log.info("housekeeping.pruned", rows=total, older_than_days=older_than.total_seconds() / 86400)
    return total


async def outbox_figures(engine: AsyncEngine, outbox: Table) -> tuple[int, float, int]:
    """Unsent rows, the age in seconds of the oldest, and rows set aside."""
    name = outbox.fullname
    sql = (
        f"SELECT (SELECT count(*) FROM {name} WHERE {PENDING_WHERE}), "
        f"coalesce((SELECT extract(epoch FROM now() - created_at) FROM {name} WHERE {PENDING_WHERE} "
        f"ORDER BY id LIMIT 1), 0), "
        f"(SELECT count(*) FROM {name} WHERE failed_at IS NOT NULL)"
    )
    async with engine.connect() as connection:
        backlog, oldest, set_aside = tuple((await connection.exec_driver_sql(sql)).one())
    return int(backlog), float(oldest), int(set_aside)


async def keep_house(
    engine: AsyncEngine,
    tables: MessagingTables,
    stop: asyncio.Event,
    *,
    service: str,
    retention: timedelta,
    prune_every: float,
    gauges_every: float = 5.0,
) -> None:
    """Refresh the outbox gauges every few seconds and prune every `prune_every` seconds."""
    next_prune = time.monotonic() + min(60.0, prune_every)
    while not stop.is_set():
        try:
            backlog, oldest, set_aside = await outbox_figures(engine, tables.outbox)
            OUTBOX_BACKLOG.labels(service).set(backlog)
            OUTBOX_OLDEST_AGE.labels(service).set(oldest)
            OUTBOX_SET_ASIDE.labels(service).set(set_aside)
            if time.monotonic() >= next_prune:
                await prune(engine, tables, older_than=retention, service=service)
                next_prune = time.monotonic() + prune_every
        except Exception as exc:  # the database is away: try again at the next tick
            log.info("housekeeping.skipped", error=repr(exc)[:200])
        await sleep_unless(stop, gauges_every)
