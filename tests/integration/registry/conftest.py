"""The registry on a database of its own (migrated once), the tiny city seeded afresh for each test,
and the registry app in-process with real tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.app import build_app
from services.registry.seeding import seed_city
from services.registry.settings import RegistrySettings
from shared.city import CityData, load_city
from shared.db import create_engine, sessionmaker
from shared.migrations import upgrade
from tests.conftest import TINY_CITY, scratch_database

pytestmark = pytest.mark.integration


def tiny_city(**changes: Any) -> CityData:
    """The tiny test city with only the clients the registry's tests use (hashing secrets is slow)."""
    city = load_city(TINY_CITY)
    clients = [c for c in city.clients if c.client_id in {"admin", "viewer", "hotline"}]
    return city.model_copy(update={"clients": clients, **changes})


@pytest.fixture(scope="session")
async def registry_db(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A database of its own, with the registry's migrations applied."""
    async with scratch_database(infra.database_url, "registry") as url:
        await asyncio.to_thread(upgrade, "registry", url)
        yield url


@pytest.fixture
async def seeded(registry_db: str) -> str:
    """The tiny city, seeded afresh (a new snapshot version)."""
    await seed_city(registry_db, tiny_city())
    return registry_db


@pytest.fixture(scope="session")
async def sessions(registry_db: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(registry_db, pool_size=2)
    yield sessionmaker(engine)
    await engine.dispose()


@dataclass
class Registry:
    """The registry app in-process: `admin`, `viewer` and `anonymous` HTTP clients."""

    admin: httpx.AsyncClient
    viewer: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    app: FastAPI

    async def version(self) -> int:
        response = await self.viewer.get("/v1/snapshot")
        return int(response.json()["version"])


async def _token(client: httpx.AsyncClient, client_id: str) -> str:
    secret = f"demo-{client_id}-secret"
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _client(transport: httpx.ASGITransport, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=transport, base_url="http://registry", headers=headers)


@pytest.fixture(scope="session")
async def registry_app(registry_db: str, infra) -> AsyncIterator[Registry]:  # type: ignore[no-untyped-def]
    await seed_city(registry_db, tiny_city())
    settings = RegistrySettings(database_url=registry_db, kafka_bootstrap_servers=infra.bootstrap_servers)
    app = build_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), _client(transport) as anonymous:
        admin_token = await _token(anonymous, "admin")
        viewer_token = await _token(anonymous, "viewer")
        async with _client(transport, admin_token) as admin, _client(transport, viewer_token) as viewer:
            yield Registry(admin=admin, viewer=viewer, anonymous=anonymous, app=app)


@pytest.fixture
async def registry(registry_app: Registry, seeded: str) -> Registry:
    """The in-process registry over a freshly seeded tiny city."""
    registry_app.app.state.snapshots.written()  # seeded behind its back: look the version up again
    return registry_app
