"""Background tasks are restarted when they die, and a task kept dead turns /healthz red."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from shared.runtime import Runtime
from shared.service_app import create_app
from shared.settings import ServiceSettings
from tests.integration.shared.consumer_helpers import until

pytestmark = pytest.mark.integration


@asynccontextmanager
async def running_service(
    playground, *jobs, grace: float = 60.0
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    settings = ServiceSettings(
        service_name="supervised",
        database_url=playground.engine.url.render_as_string(hide_password=False),
        kafka_bootstrap_servers=playground.bootstrap,
        task_down_grace_seconds=grace,
    )
    runtime = Runtime(settings=settings, tables=playground.tables, background=list(jobs))
    app = create_app(runtime, title="supervised", routers=[])
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield runtime, client
    finally:
        await runtime.stop()


async def test_a_killed_background_task_is_restarted(playground) -> None:  # type: ignore[no-untyped-def]
    starts = {"n": 0}

    async def ticker(runtime: Runtime, stop: asyncio.Event) -> None:
        starts["n"] += 1
        await stop.wait()

    async with running_service(playground, ticker) as (runtime, client):
        await until(lambda: _is(starts["n"] == 1))
        runtime.supervisor.kill("ticker")
        await until(lambda: _is(starts["n"] == 2), seconds=10)
        await until(lambda: _is(runtime.supervisor.status()["ticker"]["up"] is True))
        assert (await client.get("/healthz")).status_code == 200
        metrics = (await client.get("/metrics")).text
        assert 'whistle_task_restarts_total{service="supervised",task="ticker"} 1.0' in metrics
        assert 'whistle_task_up{service="supervised",task="ticker"} 1.0' in metrics


async def test_a_task_that_stays_dead_turns_healthz_red(playground) -> None:  # type: ignore[no-untyped-def]
    async def broken(runtime: Runtime, stop: asyncio.Event) -> None:
        raise RuntimeError("cannot start")

    async with running_service(playground, broken, grace=2.0) as (runtime, client):
        assert (await client.get("/healthz")).status_code == 200  # down, but not for long yet
        await asyncio.sleep(2.5)
        response = await client.get("/healthz")
        assert response.status_code == 503
        assert "broken" in response.json()["detail"]
        assert runtime.supervisor.status()["broken"]["restarts"] >= 2
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "tasks" in ready.json()["checks"]
        assert (
            'whistle_task_up{service="supervised",task="broken"} 0.0' in (await client.get("/metrics")).text
        )


async def _is(value: bool) -> bool:
    return value
