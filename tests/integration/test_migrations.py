"""Each service's migrations build exactly the tables its models declare, and go down again."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared.db import create_engine
from shared.migrations import SERVICES, alembic_config
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def scratch_db(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with scratch_database(infra.database_url, "mig") as url:
        yield url


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models_and_go_down_again(scratch_db: str, service: str) -> None:
    config = alembic_config(service, scratch_db)
    await asyncio.to_thread(command.upgrade, config, "head")
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = create_engine(scratch_db, pool_size=1)
    try:
        async with engine.connect() as conn:

            def differences(sync_conn):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "include_schemas": True,
                        "version_table_schema": service,
                        "include_name": lambda name, type_, _: type_ != "schema" or name == service,
                    },
                )
                return compare_metadata(context, metadata)

            diff = await conn.run_sync(differences)
        assert diff == []
        await asyncio.to_thread(command.downgrade, config, "base")
        async with engine.connect() as conn:
            left = (
                await conn.execute(
                    text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                    {"s": service},
                )
            ).scalar_one()
        assert left == 1  # only alembic's version table
    finally:
        await engine.dispose()
