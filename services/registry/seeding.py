"""Loading a city into the registry (`whistle seed`): a city file, or a generated full-size city."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.registry import repository
from services.registry.city_data import DEMO_CITY
from services.registry.city_generator import SCALES, generate_city
from services.registry.city_validation import Problem, validate_city
from services.registry.snapshots import seed
from shared.city import CityData, load_city
from shared.db import create_engine, sessionmaker, transaction


class InvalidCity(ValueError):
    """The city has problems (`problems`); nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"the city has {len(problems)} problem(s):\n{shown}{more}")
        self.problems = problems


async def seed_city(database_url: str, city: CityData, *, only_if_empty: bool = False) -> int | None:
    """Check and write the city; returns the new snapshot version (None when skipped because seeded).

    Raises `InvalidCity` (nothing written) when `validate_city` finds problems.
    """
    problems = await asyncio.to_thread(validate_city, city)
    if problems:
        raise InvalidCity(problems)
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


async def seed_generated(database_url: str, scale: str = "beijing", *, seed: int = 0) -> int | None:
    """Generate the synthetic city of `scale` (`beijing`: 16 districts, 343 streets, 7,000
    communities, ~1,500 agencies; `small`) and write it, replacing the current city.

    Takes about half a minute at `beijing` on two cores, most of it hashing the ~360 demo client
    secrets. Raises ValueError for an unknown scale.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(sorted(SCALES))}")
    city = await asyncio.to_thread(generate_city, scale, seed)
    return await seed_city(database_url, city)
