"""The intake service: the hotline's front door."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake.api import router
from services.intake.body_limit import too_large_response
from services.intake.context import IntakeContext
from services.intake.handlers import IntakeHandlers
from services.intake.metrics import label_sets_job
from services.intake.models import AUDIT, MESSAGING
from services.intake.open311.api import ROUTERS as OPEN311_ROUTERS
from services.intake.settings import IntakeSettings
from shared.consumer import ConsumerSpec
from shared.events import SLA_EVENTS, WHISTLES
from shared.messaging_tables import Outbox
from shared.service_app import city_service_app
from shared.snapshot_cache import SnapshotCache


def build_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    cache = SnapshotCache(settings.registry_url)
    ctx = IntakeContext.from_settings(
        settings, cache, Outbox(MESSAGING.outbox, producer=settings.service_name)
    )
    handlers = IntakeHandlers(ctx)
    statuses = ConsumerSpec(
        group="intake", topics=[WHISTLES, SLA_EVENTS], handlers=handlers.table(), wants=handlers.wants
    )
    app = city_service_app(
        settings,
        title="Whistle intake",
        tables=MESSAGING,
        routers=[router, *OPEN311_ROUTERS],
        cache=cache,
        consumers=[statuses] if settings.consume_events else [],
        wait_for_snapshot=False,  # the front door opens at once; filing waits for the city itself
        broker_required=False,  # complaints are filed into the outbox while the broker is away
        refusal=too_large_response,  # Open311's error document under /open311/
        audit=AUDIT,
    )
    app.state.runtime.background.append(label_sets_job(cache))  # zeros for the city's label sets
    app.state.intake = ctx
    app.state.cipher = ctx.cipher
    return app
