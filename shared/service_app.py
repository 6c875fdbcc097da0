"""The FastAPI app every service is built from: lifespan, health, readiness, metrics, errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import TokenVerifier, http_jwks_source
from shared.errors import install_problem_handlers, problem
from shared.logging import configure_logging
from shared.messaging_tables import OUTBOX_WRITTEN
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.runtime import Runtime


def create_app(
    runtime: Runtime, *, title: str, routers: list[APIRouter], verifier: TokenVerifier | None = None
) -> FastAPI:
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.verifier = verifier or TokenVerifier(http_jwks_source(settings.registry_url))
    install_problem_handlers(app)
    app.add_middleware(HttpMetrics, service=settings.service_name)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        problems = await runtime.problems()
        if problems:
            return problem(503, "Not ready", "; ".join(problems), problems=problems)
        return JSONResponse({"status": "ready", "service": settings.service_name})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


class HttpMetrics:
    """Counts and times every request by route template (never by raw path)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], template).observe(
                time.perf_counter() - started
            )


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent."""
    runtime = get_runtime(request)
    async with runtime.sessions() as session:
        async with session.begin():
            yield session
        if session.info.pop(OUTBOX_WRITTEN, False) and runtime.relay is not None:
            runtime.relay.wake()  # publish now rather than at the next poll


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
