"""The dispatch service: whistles to the units that must answer, their queues and their work."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI

from services.dispatch.api import ROUTERS
from services.dispatch.breaches import Breaches
from services.dispatch.handlers import DispatchHandlers
from services.dispatch.metrics import queue_job
from services.dispatch.models import AUDIT, MESSAGING
from services.dispatch.repository import replies
from services.dispatch.settings import DispatchSettings
from services.dispatch.wakeups import Wakeups
from shared.aio import sleep_unless
from shared.auth import TokenVerifier
from shared.consumer import ConsumerSpec
from shared.events import COMPLAINTS, SLA_EVENTS, utcnow
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.runtime import Runtime
from shared.service_app import create_app
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)


def build_app(
    settings: DispatchSettings | None = None,
    *,
    cache: SnapshotCache | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    settings = settings or DispatchSettings()
    cache = cache or SnapshotCache(settings.registry_url)
    outbox = Outbox(MESSAGING.outbox, producer=settings.service_name)
    wakeups = Wakeups()
    handlers = DispatchHandlers(cache, outbox)
    breaches = Breaches(cache, outbox, wakeups)
    complaints = ConsumerSpec(
        group="dispatch", topics=[COMPLAINTS], handlers=handlers.table(), prepare=handlers.prepare
    )
    clocks = ConsumerSpec(
        group="dispatch-escalation", topics=[SLA_EVENTS], handlers=breaches.table(), wants=breaches.wants
    )
    # As `shared.service_app.city_service_app` builds it, plus dispatch's audit log and jobs.
    runtime = Runtime(
        settings=settings,
        tables=MESSAGING,
        consumers=[complaints, clocks],
        on_start=[cache.load_on_start],
        background=[
            cache.follow,
            wakeups.listen,
            breaches.fire_due_steps,
            forget_old_replies,
            queue_job(cache),  # the queue gauges
        ],
        ready_checks=[cache.ready_problem],
        audit=AUDIT,
    )
    app = create_app(runtime, title="Whistle dispatch", routers=ROUTERS, verifier=verifier)
    app.state.snapshot = cache
    app.state.wakeups = wakeups
    return app


async def forget_old_replies(runtime: Runtime, stop: asyncio.Event) -> None:
    """A runtime background job: forget Idempotency-Key answers older than `idempotency_hours`."""
    settings = runtime.settings
    hours = settings.idempotency_hours if isinstance(settings, DispatchSettings) else 48.0
    while not stop.is_set():
        async with runtime.sessions() as session, session.begin():
            forgotten = await replies.prune(session, before=utcnow() - timedelta(hours=hours))
        if forgotten:
            log.info("dispatch.replies_forgotten", rows=forgotten)
        await sleep_unless(stop, 60.0 if forgotten else 3600.0)
