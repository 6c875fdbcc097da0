"""The FastAPI app every service is built from: lifespan, health, readiness, metrics, errors."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.access import Principal
from shared.audit import entries, record, record_refusal
from shared.auth import TokenVerifier, http_jwks_source, require
from shared.body_limit import BodyLimit, Refusal, problem_too_large
from shared.consumer import ConsumerSpec
from shared.errors import Forbidden
from shared.logging import configure_logging, get_logger
from shared.messaging_tables import MessagingTables
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.problems import install_problem_handlers, problem
from shared.rate_limit import WRITE_RATES, Limiter
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)

RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a row's id")]
"""A path id of a serial (int4) column: a larger one is refused (422), not sent to PostgreSQL."""


def settle_heap() -> None:
    """Once started: move what the service loaded (the city, its indexes, the code) out of the
    collector's sight, so that a full collection under load does not rescan it — each such pass
    over a large heap stalls every request in flight for tens of milliseconds."""
    gc.collect()
    gc.freeze()


def create_app(
    runtime: Runtime,
    *,
    title: str,
    routers: list[APIRouter],
    verifier: TokenVerifier | None = None,
    audit_writes: bool = False,
    refusal: Refusal = problem_too_large,
) -> FastAPI:
    """`audit_writes`: every accepted write (POST, PUT, PATCH, DELETE under /v1) goes to the audit log too."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        settle_heap()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.verifier = verifier or TokenVerifier(http_jwks_source(settings.registry_url))
    app.state.limiter = Limiter({**WRITE_RATES, **settings.write_rates})
    install_problem_handlers(app)
    if runtime.audit is not None:
        install_refusal_audit(app, runtime)
        routers = [*routers, audit_router(runtime)]
    if audit_writes and runtime.audit is not None:
        app.add_middleware(WriteAudit, runtime=runtime)
    app.add_middleware(HttpMetrics, service=settings.service_name)
    # Outermost: an oversized body is refused before anything reads it.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, refusal=refusal)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """Alive, unless a background task has been down longer than the grace time."""
        down = runtime.unhealthy_tasks()
        if down:
            detail = ", ".join(f"{name} down {seconds:.0f}s" for name, seconds in down.items())
            return problem(503, "Unhealthy", detail, tasks=runtime.supervisor.status())
        return JSONResponse({"status": "ok", "service": settings.service_name})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Each dependency's state; unready while a required one fails."""
        checks = await runtime.checks()
        details = {c.name: {"ok": c.ok, "detail": c.detail, "required": c.required} for c in checks}
        problems = [f"{c.name}: {c.detail}" for c in checks if not c.ok and c.required]
        if problems:
            return problem(503, "Not ready", "; ".join(problems), problems=problems, checks=details)
        status = "ready" if all(c.ok for c in checks) else "degraded"
        return JSONResponse({"status": status, "service": settings.service_name, "checks": details})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


def install_refusal_audit(app: FastAPI, runtime: Runtime) -> None:
    """Every refused attempt (403) is written to the service's audit log, then answered as usual."""
    audit = runtime.audit
    assert audit is not None

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Forbidden)
        route = getattr(request.scope.get("route"), "path", request.url.path)
        principal = getattr(request.state, "principal", None)
        await record_refusal(
            runtime.sessions, audit, principal, action=f"{request.method} {route}", detail=exc.detail
        )
        return problem(exc.status, exc.title, exc.detail, errors=exc.errors, **exc.extra)

    app.add_exception_handler(Forbidden, refused)


def audit_router(runtime: Runtime) -> APIRouter:
    """`GET /v1/audit`: the service's audit log, newest first (admins)."""
    audit = runtime.audit
    assert audit is not None
    router = APIRouter(prefix="/v1", tags=["audit"])

    @router.get("/audit")
    async def read_audit(
        principal: Annotated[Principal, require("audit:read")],
        session: SessionDep,
        since: datetime | None = None,
        client_id: str | None = None,
        outcome: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    ) -> dict[str, Any]:
        items = await entries(
            session,
            audit,
            since=since,
            client_id=client_id,
            outcome=outcome,
            limit=limit,
            before_id=before_id,
        )
        return {"items": items, "next_before_id": items[-1]["id"] if len(items) == limit else None}

    return router


def city_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    tables: MessagingTables,
    routers: list[APIRouter],
    cache: SnapshotCache,
    consumers: list[ConsumerSpec] | None = None,
    wait_for_snapshot: bool = True,
    broker_required: bool = True,
    refusal: Refusal = problem_too_large,
    audit: Table | None = None,
) -> FastAPI:
    """The app of a service that works on a copy of the registry's city (intake, dispatch, SLA): the
    copy is followed in the background and readiness waits for it; with `wait_for_snapshot` the
    service does not start consuming before it has one. With `audit` (the service's audit log
    table) refused requests are written to it and `GET /v1/audit` reads it."""
    runtime = Runtime(
        settings=settings,
        tables=tables,
        consumers=consumers or [],
        on_start=[cache.load_on_start] if wait_for_snapshot else [],
        background=[cache.follow],
        ready_checks=[cache.ready_problem],
        broker_required=broker_required,
        audit=audit,
    )
    app = create_app(runtime, title=title, routers=routers, refusal=refusal)
    app.state.snapshot = cache
    return app


class WriteAudit:
    """Writes each accepted write request to the audit log: who, which route and what, when."""

    WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in self.WRITES
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, noting)
        if status < 400 and self.runtime.audit is not None:
            route = getattr(scope.get("route"), "path", scope["path"])
            principal = scope.get("state", {}).get("principal")
            async with self.runtime.sessions() as session, session.begin():
                await record(
                    session, self.runtime.audit, principal, action=f"{scope['method']} {route}",
                    subject=scope["path"], detail=str(status),
                )  # fmt: skip


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


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

        method = scope["method"] if scope["method"] in METHODS else "other"  # never a client's own string
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(time.perf_counter() - started)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (the commit wakes the
    outbox relay when it wrote events)."""
    async with get_runtime(request).sessions() as session, session.begin():
        yield session


async def _runtime_dependency(request: Request) -> Runtime:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request
    return get_runtime(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime_dependency)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
