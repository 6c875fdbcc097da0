"""The intake service: the hotline's front door."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake.api import router
from services.intake.handlers import HANDLERS
from services.intake.models import MESSAGING
from services.intake.pii import PiiCipher
from services.intake.settings import IntakeSettings
from shared.consumer import ConsumerSpec
from shared.events import WHISTLES
from shared.runtime import Runtime
from shared.service_app import create_app
from shared.snapshot_cache import SnapshotCache


def build_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    cache = SnapshotCache(settings.registry_url)

    runtime = Runtime(
        settings=settings,
        tables=MESSAGING,
        consumers=[ConsumerSpec(group="intake", topics=[WHISTLES], handlers=HANDLERS)],
        background=[cache.follow],
        ready_checks=[cache.ready_problem],
    )
    app = create_app(runtime, title="Whistle intake", routers=[router])
    app.state.snapshot = cache
    app.state.cipher = PiiCipher(settings.pii_keys)
    return app
