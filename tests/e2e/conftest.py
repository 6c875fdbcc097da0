"""The four services as real processes on the session's PostgreSQL and broker, with the tiny city."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local_stack import LocalStack, StackConfig
from services.registry.seeding import seed_file
from shared.embedded import EmbeddedBroker, free_port
from tests.conftest import TINY_CITY, scratch_database


@dataclass
class Stack:
    urls: dict[str, str]
    log_dir: Path

    def client(self, service: str, *, as_client: str | None = None) -> httpx.AsyncClient:
        """An HTTP client for a service, authenticated as a test-city client when named."""
        headers = {"Authorization": f"Bearer {self.token(as_client)}"} if as_client else {}
        return httpx.AsyncClient(base_url=self.urls[service], timeout=10, headers=headers)

    def token(self, client_id: str, *, scope: str | None = None) -> str:
        """An access token for a client of the test city (secrets are `demo-<client_id>-secret`)."""
        data = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": f"demo-{client_id}-secret",
        }
        if scope:
            data["scope"] = scope
        response = httpx.post(f"{self.urls['registry']}/oauth/token", data=data, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api_key(self, client_id: str = "hotline") -> str:
        """A new Open311 api_key for a client, made by the admin."""
        response = httpx.post(
            f"{self.urls['registry']}/v1/clients/{client_id}/api-keys",
            timeout=10,
            headers={"Authorization": f"Bearer {self.token('admin')}"},
        )
        response.raise_for_status()
        return str(response.json()["api_key"])

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )


@asynccontextmanager
async def running_stack(database_url: str, bootstrap_servers: str) -> AsyncIterator[Stack]:
    """The four services on free ports, on the database and broker given, seeded with the tiny city."""
    log_dir = Path(tempfile.mkdtemp(prefix="whistle-e2e-"))
    ports = {s: free_port() for s in ("registry", "intake", "dispatch", "sla")}
    config = StackConfig(
        home=log_dir,
        ports=ports,
        seed=False,
        database_url=database_url,
        bootstrap_servers=bootstrap_servers,
        log_dir=log_dir,
    )
    local = LocalStack(config)
    await local.prepare()
    await seed_file(database_url, TINY_CITY)
    local.start_services()
    stack = Stack({s: f"http://127.0.0.1:{p}" for s, p in ports.items()}, log_dir)
    try:
        await local.wait_healthy(within=60)
    except Exception:
        local.stop()
        raise RuntimeError(f"the stack did not come up:\n{stack.logs()}") from None
    try:
        yield stack
    finally:
        await asyncio.to_thread(local.stop)


@asynccontextmanager
async def isolated_stack(infra: Any, name: str) -> AsyncIterator[Stack]:
    """A stack on a database of its own (and, on the embedded default, a broker of its own): for
    tests that change what the session's stack must keep (close a period, fuzz the admin API)."""
    broker = None
    bootstrap = infra.bootstrap_servers
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        broker = EmbeddedBroker(port=free_port())
        broker.start()
        bootstrap = broker.bootstrap_servers
    try:
        async with scratch_database(infra.database_url, name) as url, running_stack(url, bootstrap) as stack:
            yield stack
    finally:
        if broker is not None:
            broker.stop()


@pytest.fixture(scope="session")
async def stack(infra) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    async with running_stack(infra.database_url, infra.bootstrap_servers) as stack:
        yield stack
