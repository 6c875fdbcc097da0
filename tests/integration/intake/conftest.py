"""Intake on its own database (a fresh one per test module) with the tiny city's snapshot."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.context import IntakeContext, MergePolicy
from services.intake.drafts import Draft
from services.intake.filing import Filed, file_complaint
from services.intake.handlers import IntakeHandlers
from services.intake.models import MESSAGING
from services.intake.pii import PiiCipher, new_key
from shared.city import CitySnapshot, load_city
from shared.db import create_engine, sessionmaker
from shared.events import Envelope, Payload, envelope_for
from shared.messaging_tables import Outbox
from shared.migrations import upgrade
from shared.snapshot_cache import SnapshotCache
from tests.conftest import TINY_CITY, scratch_database

pytestmark = pytest.mark.integration


@dataclass
class IntakeDb:
    sessions: async_sessionmaker[AsyncSession]
    ctx: IntakeContext
    handlers: IntakeHandlers

    async def file(self, draft: Draft) -> Filed:
        async with self.sessions() as session, session.begin():
            return await file_complaint(session=session, ctx=self.ctx, draft=draft)

    async def events(self, correlation_id: str | None = None) -> list[Envelope]:
        async with self.sessions() as session:
            rows = await session.execute(text("SELECT value FROM intake.outbox ORDER BY id"))
            found = [Envelope.from_bytes(r[0]) for r in rows]
        return [e for e in found if correlation_id is None or e.correlation_id == correlation_id]

    async def deliver(self, payload: Payload) -> None:
        """Handle a dispatch or SLA event as the consumer loop would (one transaction)."""
        envelope = envelope_for(payload, producer="test", correlation_id="x")
        handler = self.handlers.table()[type(payload)]
        async with self.sessions() as session, session.begin():
            await handler(session, payload, envelope)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.sessions() as session:
            return (await session.execute(text(sql), params)).scalar_one()


@pytest.fixture(scope="module")
async def intake_url(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with scratch_database(infra.database_url, "intake") as url:
        await asyncio.to_thread(upgrade, "intake", url)
        yield url


def tiny_cache() -> SnapshotCache:
    cache = SnapshotCache("http://registry.invalid")
    cache.install(CitySnapshot(version=1, city=load_city(TINY_CITY)))
    return cache


@pytest.fixture
async def intake(intake_url: str) -> AsyncIterator[IntakeDb]:
    engine = create_engine(intake_url, pool_size=4)
    sessions = sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE intake.complaints, intake.status_changes, intake.handling_units, intake.feedback,"
                " intake.contact_reads, intake.merges, intake.resident_updates, intake.outbox, intake.inbox"
                " CASCADE"
            )
        )
    ctx = IntakeContext(
        cache=tiny_cache(),
        cipher=PiiCipher([new_key()]),
        outbox=Outbox(MESSAGING.outbox, producer="intake"),
        merge=MergePolicy(distance_meters=50),
    )
    yield IntakeDb(sessions, ctx, IntakeHandlers(ctx))
    await engine.dispose()


def create_draft(**overrides: Any) -> Draft:
    values: dict[str, Any] = {
        "source": "hotline",
        "source_ref": f"12345-{uuid.uuid4().hex[:12]}",
        "category": "illegal_construction",
        "description": "楼顶私搭乱建 🏗️",
        "lat": 39.905,
        "lon": 116.405,
        "name": "张三",
        "phone": "13800138000",
        "filed_by": "hotline",
    }
    values.update(overrides)
    return Draft(**values)
