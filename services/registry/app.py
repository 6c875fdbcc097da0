"""The registry service: the city, its departments, rules and policies."""

from typing import Any

from fastapi import FastAPI

from services.registry import signing_keys
from services.registry.api import router
from services.registry.models import AUDIT, MESSAGING
from services.registry.oauth import router as oauth_router
from services.registry.settings import RegistrySettings
from services.registry.snapshots import SnapshotBuilder
from shared.auth import TokenVerifier
from shared.db import transaction
from shared.rate_limit import FailureLimiter
from shared.runtime import Runtime
from shared.service_app import create_app


def build_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = Runtime(settings=settings, tables=MESSAGING, audit=AUDIT)

    async def own_keys() -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            return await signing_keys.jwks(session)

    app = create_app(
        runtime,
        title="Whistle registry",
        routers=[oauth_router, router],
        verifier=TokenVerifier(own_keys),
        audit_writes=True,  # every admin write, key rotation and api-key change
    )
    app.state.token_failures = FailureLimiter(allowed=settings.token_failures_per_minute, window=60.0)
    app.state.snapshots = SnapshotBuilder(recheck_seconds=settings.snapshot_recheck_seconds)
    return app
