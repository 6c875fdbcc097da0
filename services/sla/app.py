"""The SLA service: deadlines per stage, breaches, scores."""

from __future__ import annotations

from fastapi import FastAPI

from services.sla.api import router
from services.sla.handlers import SlaHandlers
from services.sla.models import MESSAGING
from services.sla.settings import SlaSettings
from shared.consumer import ConsumerSpec
from shared.events import WHISTLES
from shared.messaging_tables import Outbox
from shared.runtime import Runtime
from shared.service_app import create_app
from shared.snapshot_cache import SnapshotCache


def build_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    cache = SnapshotCache(settings.registry_url)
    handlers = SlaHandlers(cache, Outbox(MESSAGING.outbox, producer=settings.service_name))

    runtime = Runtime(
        settings=settings,
        tables=MESSAGING,
        consumers=[ConsumerSpec(group="sla", topics=[WHISTLES], handlers=handlers.table())],
        on_start=[cache.load_on_start],
        background=[cache.follow],
        ready_checks=[cache.ready_problem],
    )
    app = create_app(runtime, title="Whistle SLA", routers=[router])
    app.state.snapshot = cache
    return app
