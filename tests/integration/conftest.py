"""Per-test isolation on the shared servers: a fresh schema and fresh topics for each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, MetaData, String, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, sessionmaker
from shared.kafka import ensure_topics, make_producer
from shared.messaging_tables import MessagingTables, messaging_tables

pytestmark = pytest.mark.integration


@dataclass
class Playground:
    """A schema with the messaging tables and an `effects` table handlers write to; a topic."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    effects: Table
    topic: str
    bootstrap: str

    async def count(self, table: Table) -> int:
        async with self.sessions() as session:
            return int(
                (
                    await session.execute(text(f'SELECT count(*) FROM {table.schema}."{table.name}"'))
                ).scalar_one()
            )


def playground_tables(schema: str) -> tuple[MetaData, MessagingTables, Table]:
    """The messaging tables and an `effects` table (one row per handled event) in a schema."""
    metadata = MetaData(schema=schema)
    tables = messaging_tables(metadata)
    effects = Table(
        "effects", metadata, Column("event_id", String(64), primary_key=False), Column("note", String(200))
    )
    return metadata, tables, effects


@pytest.fixture
async def playground(infra) -> AsyncIterator[Playground]:  # type: ignore[no-untyped-def]
    suffix = uuid.uuid4().hex[:10]
    metadata, tables, effects = playground_tables(f"t_{suffix}")
    engine = create_engine(infra.database_url, pool_size=4)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{metadata.schema}"'))
        await conn.run_sync(metadata.create_all)
    topic = f"test-{suffix}"
    await ensure_topics(infra.bootstrap_servers, [topic], partitions=3)
    yield Playground(engine, sessionmaker(engine), tables, effects, topic, infra.bootstrap_servers)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{metadata.schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture
async def producer(infra):  # type: ignore[no-untyped-def]
    p = make_producer(infra.bootstrap_servers, client_id="test")
    await p.start()
    yield p
    await p.stop()
