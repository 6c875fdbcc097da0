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
from shared.service_app import city_service_app
from shared.snapshot_cache import SnapshotCache


def build_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    cache = SnapshotCache(settings.registry_url)
    handlers = SlaHandlers(cache, Outbox(MESSAGING.outbox, producer=settings.service_name))
    whistles = ConsumerSpec(group="sla", topics=[WHISTLES], handlers=handlers.table())
    return city_service_app(
        settings, title="Whistle SLA", tables=MESSAGING, routers=[router], cache=cache, consumers=[whistles]
    )
