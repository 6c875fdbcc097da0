"""The durable timer: each clock's warning and breach, fired once, on time, from any number of
replicas, surviving restarts.

Due rows live in `sla.timers` (one per clock and kind), indexed by fire time. Each round, a replica
takes the due rows in one transaction — `SELECT … FOR UPDATE SKIP LOCKED` and deleted, so two
replicas never take the same row — notes the warning or breach on the clock, writes what a breach
counts for, and puts `clock.warning` / `clock.breached` into the outbox, all in that transaction: a
crash before the commit leaves the rows for the next round (of any replica), a commit leaves none to
fire again. A clock stopped or moved first deletes its rows (in its own transaction), so a clock
stopped before its deadline never fires. Nothing is kept in memory: between rounds the loop sleeps
until the next fire time or `poll_seconds`, whichever comes first, so a replica that did not start
a clock still fires it on time.

While rebuilding, the warnings and breaches that were emitted are read back from `sla.events`
(`note_fired`), so the rebuilt clocks carry the same instants and fire nothing twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.metrics import FIRE_LATENESS, TIMERS_FIRED, count_fired
from services.sla.repository import clocks as clock_rows
from services.sla.timekeeping import EventSink, Timekeeper, clock_event_fields
from shared.aio import sleep_unless
from shared.consumer_decisions import backoff_seconds
from shared.events import ClockBreached, ClockWarning, utcnow
from shared.logging import get_logger

log = get_logger(__name__)

KINDS = ("warning", "breach")


async def fire_due(
    session: AsyncSession, keeper: Timekeeper, events: EventSink, *, now: datetime, limit: int
) -> int:
    """Fire up to `limit` due warnings and breaches in the caller's transaction; how many."""
    claimed = await clock_rows.claim_due(session, now=now, limit=limit)
    for kind in KINDS:
        ids = [clock_id for clock_id, k in claimed if k == kind]
        for clock in await clock_rows.mark_fired(session, ids, kind=kind, at=now):
            model = ClockWarning if kind == "warning" else ClockBreached
            await events.add(
                session, model(**clock_event_fields(clock), at=now), correlation_id=clock.complaint_id
            )
            if kind == "breach":
                # A merged complaint's clocks were cancelled, so a clock that fires is not merged.
                await keeper.judge_into_measure(session, None, clock)
            TIMERS_FIRED.labels(kind, clock.stage).inc()
            count_fired(kind, clock.stage, clock.department_code, clock.role)
            FIRE_LATENESS.labels(kind).observe(
                max(0.0, (now - (clock.warn_at if kind == "warning" else clock.due_at)).total_seconds())
            )
    return len(claimed)


async def note_fired(session: AsyncSession, keeper: Timekeeper, e: ClockWarning | ClockBreached) -> None:
    """A warning or breach read back from `sla.events` (rebuilding): the clock carries its instant
    and its row will not fire again."""
    kind = "warning" if isinstance(e, ClockWarning) else "breach"
    await clock_rows.forget_timer(session, e.clock_id, kind)
    for clock in await clock_rows.mark_fired(session, [e.clock_id], kind=kind, at=e.at):
        if kind == "breach":
            whistle = await clock_rows.whistle(session, clock.whistle_id)
            await keeper.judge_into_measure(session, whistle, clock)


class Timer:
    """The background job (`async def run(runtime, stop)` shape) of one replica."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keeper: Timekeeper,
        *,
        poll_seconds: float = 0.2,
        batch_size: int = 500,
    ) -> None:
        self.sessions = sessions
        self.keeper = keeper
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size

    async def round(self) -> int:
        async with self.sessions() as session, session.begin():
            return await fire_due(
                session, self.keeper, self.keeper.events, now=utcnow(), limit=self.batch_size
            )

    async def pause(self) -> float:
        """How long to sleep: until the next fire time, at most `poll_seconds`."""
        async with self.sessions() as session:
            next_at = await clock_rows.next_fire_at(session)
        if next_at is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, (next_at - utcnow()).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        log.info("sla.timer_started", poll_seconds=self.poll_seconds)
        while not stop.is_set():
            try:
                fired = await self.round()
                failures = 0
                if fired >= self.batch_size:
                    continue  # more are due: no sleep
                wait = await self.pause()
            except Exception as exc:  # the database away: wait and go on; nothing was committed
                failures += 1
                log.warning("sla.timer_failed", error=repr(exc)[:300], failures=failures)
                wait = backoff_seconds(failures, base=0.2, ceiling=5)
            await sleep_unless(stop, wait)
