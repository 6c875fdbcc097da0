"""The test harness: one real PostgreSQL and one real Kafka-protocol broker per test session.

Both are started here (embedded) unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS point at servers.
Unit tests (tests/unit) need neither and start nothing.
"""

from __future__ import annotations

import functools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.city import CityData, load_city

TESTS = Path(__file__).parent
TINY_CITY = TESTS / "data" / "tiny_city.yaml"


@functools.cache
def tiny_city() -> CityData:
    """The tiny test city (tests/data/tiny_city.yaml), loaded once."""
    return load_city(TINY_CITY)


@pytest.fixture
def city() -> CityData:
    return tiny_city()


@dataclass(frozen=True)
class Infra:
    database_url: str
    bootstrap_servers: str


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port

    postgres = broker = None
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    home = Path(tempfile.mkdtemp(prefix="whistle-test-"))
    try:
        if not database_url:
            postgres = EmbeddedPostgres(
                home / "pgdata", port=free_port(), durable=False, log_to=(home / "postgres.log").open("ab")
            )
            postgres.start()
            database_url = postgres.url()
        if not bootstrap:
            broker = EmbeddedBroker(port=free_port(), log_to=(home / "broker.log").open("ab"))
            broker.start()
            bootstrap = broker.bootstrap_servers
        yield Infra(database_url, bootstrap)
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()
        from shared.embedded import remove_tree

        remove_tree(home)


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str = "scratch") -> AsyncIterator[str]:
    """A new, empty database on the server of `server_url` (its URL), dropped afterwards."""
    from sqlalchemy import make_url, text

    from shared.db import asyncpg_url, create_engine

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server = create_engine(server_url, pool_size=1)
    try:
        async with server.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(asyncpg_url(server_url)).set(database=name).render_as_string(hide_password=False)
        async with server.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await server.dispose()
