"""Closing an assessment period: its standings are published, once.

A period closes when an admin says so (`POST /v1/periods/{period}/close`) or on its own from local
midnight of `SLA_CLOSE_PERIOD_DAY` of the next month (any replica; the first to take the period's
lock does it). Closing stores every unit's standing at every level as published and puts one
`score.published` per unit into the outbox, in one transaction; from then on the period's scores
and rankings are the published ones and its evaluations are final.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.metrics import SCORES_PUBLISHED
from services.sla.periods import Period, has_begun, period_of
from services.sla.periods import close_due as close_is_due
from services.sla.repository import periods
from services.sla.standings import board, score_row
from services.sla.tallies import LEVELS
from services.sla.timekeeping import EventSink
from shared.aio import sleep_unless
from shared.city import CityData
from shared.errors import Conflict, Unprocessable
from shared.events import ScorePublished, utcnow
from shared.logging import get_logger
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)


async def close_period(
    session: AsyncSession, *, period: Period, city: CityData, by: str, events: EventSink, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Close the period and publish its standings; Conflict if it was closed already."""
    if not has_begun(period, now):
        raise Unprocessable(
            "The period cannot be closed.",
            errors=[{"field": "period", "message": f"period {period} has not begun"}],
        )
    await periods.lock(session, str(period))
    if not await periods.close(session, str(period), at=now, by=by):
        raise Conflict(f"period {period} is closed already")
    published: dict[str, list[dict[str, Any]]] = {}
    for level in LEVELS:
        standings = (await board(session, span=period.span(), level=level, city=city)).standings
        rows = [score_row(s, level) for s in standings]
        await periods.publish(
            session,
            [
                dict(period=str(period), level=level, unit_code=r["unit_code"], n=r["n"], score=r["score"],
                     rank=r["rank"], band=r["band"], eligible=r["eligible"], row=r)
                for r in rows
            ],
        )  # fmt: skip
        for r in rows:
            await events.add(
                session,
                ScorePublished(
                    period=str(period), level=level, unit_code=r["unit_code"], n=r["n"],
                    score=r["score"], rank=r["rank"], band=r["band"],
                    rates={m: v["rate"] for m, v in r["rates"].items()}, at=now,
                ),
                correlation_id=f"period:{period}",
            )  # fmt: skip
        SCORES_PUBLISHED.labels(level).inc(len(rows))
        published[level] = rows
    log.info("sla.period_closed", period=str(period), by=by, units=sum(len(r) for r in published.values()))
    return published


class PeriodCloser:
    """The background job closing last month from the configured day on."""

    def __init__(
        self, sessions: Any, cache: SnapshotCache, events: EventSink, *, day: int, every: float
    ) -> None:
        self.sessions = sessions
        self.cache = cache
        self.events = events
        self.day = day
        self.every = every

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = utcnow()
            last_month = period_of(now).previous()
            try:
                if self.cache.current is not None and close_is_due(last_month, now, day=self.day):
                    await self._close(last_month, now)
            except Exception as exc:  # the database away: try again next round
                log.warning("sla.period_close_failed", period=str(last_month), error=repr(exc)[:300])
            await sleep_unless(stop, self.every)

    async def _close(self, period: Period, now: datetime) -> None:
        async with self.sessions() as session, session.begin():
            if await periods.closed(session, str(period)) is not None:
                return
            try:
                city = self.cache.require().snapshot.city
                await close_period(session, period=period, city=city, by="sla", events=self.events, now=now)
            except Conflict:
                return  # another replica closed it meanwhile
