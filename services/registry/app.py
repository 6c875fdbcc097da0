"""The registry service: the city, its departments, rules and policies."""

from fastapi import FastAPI

from services.registry.api import router
from services.registry.models import MESSAGING
from services.registry.settings import RegistrySettings
from services.registry.snapshots import SnapshotBuilder
from shared.runtime import Runtime
from shared.service_app import create_app


def build_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = Runtime(settings=settings, tables=MESSAGING)
    app = create_app(runtime, title="Whistle registry", routers=[router])
    app.state.snapshots = SnapshotBuilder()
    return app
