"""Seeding a city into PostgreSQL and reading it back; the migration that versioned the model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry import repository
from services.registry.city_data import DEMO_CITY
from services.registry.seeding import InvalidCity, seed_city
from shared.city import CityData, Rule, load_city
from shared.db import create_engine
from shared.events import Envelope
from shared.migrations import alembic_config
from tests.conftest import scratch_database
from tests.integration.registry.conftest import tiny_city

pytestmark = pytest.mark.integration


def in_code_order(city: CityData) -> CityData:
    """The registry lists districts, streets, departments and agencies by code."""

    def by_code(items: list[Any]) -> list[Any]:
        return sorted(items, key=lambda i: i.code)

    districts = [
        d.model_copy(
            update={"streets": by_code([s.model_copy(update={"units": by_code(s.units)}) for s in d.streets])}
        )
        for d in by_code(city.districts)
    ]
    departments = [d.model_copy(update={"agencies": by_code(d.agencies)}) for d in by_code(city.departments)]
    return city.model_copy(update={"districts": districts, "departments": departments})


async def test_a_seeded_city_reads_back_as_it_was_written(
    registry_db: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    demo = load_city(DEMO_CITY)
    version = await seed_city(registry_db, demo.model_copy(update={"clients": demo.clients[:2]}))
    async with sessions() as session:
        city = await repository.load_city(session)
        assert await repository.current_version(session) == version
        envelope = Envelope.from_bytes(
            (
                await session.execute(text("SELECT value FROM registry.outbox ORDER BY id DESC LIMIT 1"))
            ).scalar_one()
        )
    expected = in_code_order(demo.model_copy(update={"clients": []}))
    without_ids = city.model_copy(
        update={"rules": [r.model_copy(update={"id": None}) for r in city.rules], "policy_history": []}
    )
    assert in_code_order(without_ids) == expected
    assert [(p.urgency, p.effective_from) for p in city.policy_history] == [
        ("emergency", None),
        ("urgent", None),
        ("normal", None),
        ("complex", None),
        (None, None),  # scoring
        (None, None),  # dispatch
        (None, None),  # structure
    ]
    assert (envelope.type, envelope.payload) == (
        "registry.changed",
        {"snapshot_version": version, "changed": ["city"]},
    )


async def test_an_invalid_city_is_refused_whole(
    registry_db: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_city(registry_db, tiny_city())
    async with sessions() as session:
        before = await repository.current_version(session)
    bad = tiny_city(rules=[*tiny_city().rules, Rule(category="heating", street_unit_kind="office")])
    with pytest.raises(InvalidCity) as caught:
        await seed_city(registry_db, bad)
    assert [p.path for p in caught.value.problems] == ["rules[3].street_unit_kind"]
    async with sessions() as session:
        assert await repository.current_version(session) == before


async def test_seed_if_empty_leaves_a_seeded_registry_alone(registry_db: str) -> None:
    await seed_city(registry_db, tiny_city())
    assert await seed_city(registry_db, tiny_city(), only_if_empty=True) is None


# --- the migration that versioned rules and policies -------------------------------------------------


@pytest.fixture
async def scratch_db(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with scratch_database(infra.database_url, "regmig") as url:
        yield url


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    from alembic import command

    config = alembic_config("registry", url)
    (command.downgrade if down else command.upgrade)(config, revision)


BEFORE_VERSIONING = "267a77e4d7f1"


async def test_migration_keeps_existing_policies_and_communities(scratch_db: str) -> None:
    await asyncio.to_thread(_migrate, scratch_db, BEFORE_VERSIONING)
    engine = create_engine(scratch_db, pool_size=1)
    sla = {"normal": {"sign_off": "30m", "contact": "24h", "report_in": "24h", "resolve": "7d"}}
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO registry.districts VALUES ('d1', '东区', 'd1-b', '兜底')"))
            await conn.execute(text("INSERT INTO registry.streets VALUES ('s1', 'd1', '一街道', 'street')"))
            await conn.execute(
                text("INSERT INTO registry.communities VALUES ('c1', 's1', '一社区', 10, CAST(:p AS jsonb))"),
                {"p": json.dumps([[116.4, 39.9], [116.41, 39.9], [116.41, 39.92], [116.4, 39.9]])},
            )
            await conn.execute(
                text("INSERT INTO registry.policies (kind, body) VALUES ('sla', CAST(:b AS jsonb))"),
                {"b": json.dumps(sla)},
            )
        await asyncio.to_thread(_migrate, scratch_db, "head")
        async with engine.connect() as conn:
            box = (
                await conn.execute(
                    text("SELECT min_lon, min_lat, max_lon, max_lat FROM registry.communities")
                )
            ).one()
            policies = (
                await conn.execute(text("SELECT kind, urgency, body, effective_from FROM registry.policies"))
            ).all()
        assert tuple(box) == (116.4, 39.9, 116.41, 39.92)
        assert [tuple(p) for p in policies] == [("sla", "normal", sla["normal"], None)]
        await asyncio.to_thread(_migrate, scratch_db, BEFORE_VERSIONING, down=True)
        async with engine.connect() as conn:
            bodies = (await conn.execute(text("SELECT kind, body FROM registry.policies"))).all()
        assert [tuple(b) for b in bodies] == [("sla", sla)]
    finally:
        await engine.dispose()
