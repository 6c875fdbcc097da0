"""The SLA service: clocks per stage fired on time by a durable timer, the streets' evaluations,
scores, rankings and scorecards.

Runs, supervised: the consumer of `dispatch.whistles` and `intake.complaints` (group `sla`), the
timer (`timers.py`), the closer of last month's period (`closing.py`), the outbox relay, and the
follower of the registry's city."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.sla.api import ROUTERS
from services.sla.closing import PeriodCloser
from services.sla.handlers import SlaHandlers
from services.sla.metrics import tallies_job
from services.sla.models import AUDIT, MESSAGING
from services.sla.settings import SlaSettings
from services.sla.timers import Timer
from shared.consumer import ConsumerSpec
from shared.events import COMPLAINTS, WHISTLES
from shared.messaging_tables import Outbox
from shared.runtime import Runtime
from shared.service_app import create_app
from shared.snapshot_cache import SnapshotCache


def build_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    cache = SnapshotCache(settings.registry_url)
    outbox = Outbox(MESSAGING.outbox, producer=settings.service_name)
    handlers = SlaHandlers(cache, outbox)
    consumer = ConsumerSpec(
        group="sla", topics=[WHISTLES, COMPLAINTS], handlers=handlers.table(), prepare=handlers.prepare
    )

    async def timer(runtime: Runtime, stop: asyncio.Event) -> None:
        job = Timer(
            runtime.sessions,
            handlers.keeper,
            poll_seconds=settings.timer_poll_seconds,
            batch_size=settings.timer_batch_size,
        )
        await job.run(stop)

    async def period_closer(runtime: Runtime, stop: asyncio.Event) -> None:
        job = PeriodCloser(
            runtime.sessions, cache, outbox, day=settings.close_period_day, every=settings.close_check_seconds
        )
        await job.run(stop)

    # Built here rather than by `city_service_app`, which has no audit log to give the runtime.
    runtime = Runtime(
        settings=settings,
        tables=MESSAGING,
        consumers=[consumer],
        on_start=[cache.load_on_start],
        background=[cache.follow, timer, period_closer, tallies_job(cache)],
        ready_checks=[cache.ready_problem],
        audit=AUDIT,
    )
    app = create_app(runtime, title="Whistle SLA", routers=ROUTERS)
    app.state.snapshot = cache
    return app
