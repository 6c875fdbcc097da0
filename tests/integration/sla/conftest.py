"""SLA on its own database (a fresh one per test module), with the tiny city's snapshot; policies can
be compressed to seconds by installing another city version, as the registry would serve it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.sla.handlers import SlaHandlers
from services.sla.models import MESSAGING
from services.sla.timers import fire_due
from shared.city import CityData, CitySnapshot, SlaPolicy
from shared.db import create_engine, sessionmaker
from shared.events import AssignmentRef, Envelope, Payload, WhistleIssued, envelope_for, utcnow
from shared.messaging_tables import Outbox
from shared.migrations import upgrade
from shared.snapshot_cache import SnapshotCache
from tests.conftest import scratch_database, tiny_city

pytestmark = pytest.mark.integration

DERIVED = "sla.whistles, sla.clocks, sla.timers, sla.measures, sla.inbox"
KEPT = "sla.evaluations, sla.periods, sla.published_scores, sla.audit_log, sla.outbox"


def fast_city(*, seconds: int = 2) -> CityData:
    """The tiny city with every urgency's deadlines in seconds (sign-off after `seconds`)."""
    fast = SlaPolicy(
        sign_off=f"{seconds}s",
        contact=f"{2 * seconds}s",
        report_in=f"{2 * seconds}s",
        resolve=f"{3 * seconds}s",
        warn_at=0.5,
    )
    city = tiny_city()
    return city.model_copy(
        update={"policies": city.policies.model_copy(update={"sla": dict.fromkeys(city.policies.sla, fast)})}
    )


def city_cache(city: CityData, version: int = 1) -> SnapshotCache:
    cache = SnapshotCache("http://registry.invalid")
    cache.install(CitySnapshot(version=version, city=city))
    return cache


@dataclass
class SlaDb:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cache: SnapshotCache
    handlers: SlaHandlers = field(init=False)

    def __post_init__(self) -> None:
        self.handlers = SlaHandlers(self.cache, Outbox(MESSAGING.outbox, producer="sla"))

    async def deliver(self, *payloads: Payload) -> None:
        """Handle events as the consumer loop would (one transaction)."""
        table = self.handlers.replay_table()
        async with self.sessions() as session, session.begin():
            for payload in payloads:
                envelope = envelope_for(payload, producer="test", correlation_id="x")
                await table[type(payload)](session, payload, envelope)

    async def fire(self, now: datetime, *, limit: int = 500) -> int:
        async with self.sessions() as session, session.begin():
            return await fire_due(
                session, self.handlers.keeper, self.handlers.keeper.events, now=now, limit=limit
            )

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(text(sql), params)).all())

    async def clocks(self, complaint_id: str) -> dict[tuple[str, str], Any]:
        """(stage, unit) → the clock row."""
        found = await self.rows("SELECT * FROM sla.clocks WHERE complaint_id = :c", c=complaint_id)
        return {(r.stage, r.unit_code): r for r in found}

    async def events(self, type_: str | None = None, complaint_id: str | None = None) -> list[Envelope]:
        found = [
            Envelope.from_bytes(r[0]) for r in await self.rows("SELECT value FROM sla.outbox ORDER BY id")
        ]
        return [
            e
            for e in found
            if (type_ is None or e.type == type_)
            and (complaint_id is None or e.correlation_id == complaint_id)
        ]


@pytest.fixture(scope="module")
async def sla_url(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with scratch_database(infra.database_url, "sla") as url:
        await asyncio.to_thread(upgrade, "sla", url)
        yield url


@pytest.fixture
async def sla(sla_url: str) -> AsyncIterator[SlaDb]:
    engine = create_engine(sla_url, pool_size=4)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {DERIVED}, {KEPT}"))
    yield SlaDb(sla_url, engine, sessionmaker(engine), city_cache(tiny_city()))
    await engine.dispose()


def create_issued(**overrides: Any) -> WhistleIssued:
    """whistle.issued for the tiny city: illegal construction at s1, housing leads, city management helps."""
    complaint_id = str(uuid.uuid4())
    values: dict[str, Any] = {
        "whistle_id": str(uuid.uuid4()),
        "complaint_id": complaint_id,
        "category": "illegal_construction",
        "urgency": "normal",
        "street_code": "s1",
        "district_code": "d1",
        "issued_at": utcnow(),
        "assignments": [
            AssignmentRef(
                assignment_id=str(uuid.uuid4()), unit_code="d1-zjw", department_code="zjw", role="lead"
            ),
            AssignmentRef(
                assignment_id=str(uuid.uuid4()), unit_code="d1-cgw", department_code="cgw", role="co"
            ),
        ],
    }
    return WhistleIssued.model_validate(values | overrides)


def of(whistle: WhistleIssued, n: int = 0, **extra: Any) -> dict[str, Any]:
    """The fields of an assignment event about the whistle's n-th assignment."""
    a = whistle.assignments[n]
    return {
        "whistle_id": whistle.whistle_id,
        "complaint_id": whistle.complaint_id,
        "assignment_id": a.assignment_id,
        "unit_code": a.unit_code,
        "department_code": a.department_code,
        "role": a.role,
        "at": whistle.issued_at + timedelta(minutes=1),
    } | extra
