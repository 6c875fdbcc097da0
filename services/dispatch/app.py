"""The dispatch service: whistles to the departments that must answer."""

from __future__ import annotations

from fastapi import FastAPI

from services.dispatch.api import router
from services.dispatch.handlers import DispatchHandlers
from services.dispatch.models import MESSAGING
from services.dispatch.settings import DispatchSettings
from shared.consumer import ConsumerSpec
from shared.events import COMPLAINTS
from shared.messaging_tables import Outbox
from shared.service_app import city_service_app
from shared.snapshot_cache import SnapshotCache


def build_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    cache = SnapshotCache(settings.registry_url)
    handlers = DispatchHandlers(cache, Outbox(MESSAGING.outbox, producer=settings.service_name))
    complaints = ConsumerSpec(
        group="dispatch", topics=[COMPLAINTS], handlers=handlers.table(), prepare=handlers.prepare
    )
    return city_service_app(
        settings,
        title="Whistle dispatch",
        tables=MESSAGING,
        routers=[router],
        cache=cache,
        consumers=[complaints],
    )
