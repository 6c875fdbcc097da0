"""Loading a city file into the registry (`whistle seed`)."""

from __future__ import annotations

from pathlib import Path

from services.registry import repository
from services.registry.city_data import DEMO_CITY
from services.registry.snapshots import seed
from shared.city import CityData, load_city
from shared.db import create_engine, sessionmaker, transaction


async def seed_city(database_url: str, city: CityData, *, only_if_empty: bool = False) -> int | None:
    """Write the city; returns the new snapshot version (None when skipped because seeded)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with transaction(sessionmaker(engine)) as session:
            if only_if_empty and await repository.is_seeded(session):
                return None
            return await seed(session, city)
    finally:
        await engine.dispose()


async def seed_demo_if_empty(database_url: str) -> int | None:
    return await seed_city(database_url, load_city(DEMO_CITY), only_if_empty=True)


async def seed_file(database_url: str, path: Path) -> int | None:
    return await seed_city(database_url, load_city(path))
