"""What the registry's write path asks of the database beyond the city itself: retired parents with
live children, and the communities a new polygon could overlap."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.repository.city_reads import _live


async def orphans(session: AsyncSession) -> list[tuple[str, str]]:
    """Live rows whose parent is retired: (path, message) pairs."""
    pairs: list[tuple[str, Any, Any, str, Any]] = [
        ("street", m.Street, m.Street.district_code, "district", m.District),
        ("community", m.Community, m.Community.street_code, "street", m.Street),
        ("street unit", m.StreetUnit, m.StreetUnit.street_code, "street", m.Street),
        ("agency", m.Agency, m.Agency.department_code, "department", m.Department),
        ("duty item", m.DutyItem, m.DutyItem.block_code, "duty block", m.DutyBlock),
        (
            "community duty item",
            m.CommunityDutyItem,
            m.CommunityDutyItem.block_code,
            "community duty block",
            m.CommunityDutyBlock,
        ),
    ]
    found: list[tuple[str, str]] = []
    for child, model, parent_column, parent, parent_model in pairs:
        query = (
            select(model.code, parent_model.code)
            .join(parent_model, parent_column == parent_model.code)
            .where(_live(model), parent_model.retired_at.is_not(None))
            .order_by(model.code)
        )
        for code, parent_code in await session.execute(query):
            found.append(
                (
                    f"{parent}:{parent_code}",
                    f"{parent} {parent_code!r} still has {child} {code!r} in service: "
                    f"retire or move it first",
                )
            )
    return found


async def neighbours(
    session: AsyncSession, box: dict[str, float], *, exclude: str | None = None
) -> list[tuple[str, list[list[float]]]]:
    """Live communities whose bounding box meets `box`: the only ones a polygon there can overlap."""
    query = select(m.Community.code, m.Community.polygon).where(
        _live(m.Community),
        m.Community.min_lon <= box["max_lon"],
        m.Community.max_lon >= box["min_lon"],
        m.Community.min_lat <= box["max_lat"],
        m.Community.max_lat >= box["min_lat"],
    )
    if exclude is not None:
        query = query.where(m.Community.code != exclude)
    return [(code, polygon) for code, polygon in await session.execute(query)]


async def sub_areas_taken(session: AsyncSession, codes: list[str], *, exclude: str | None) -> list[str]:
    """Which of these sub-area codes another live or retired community already uses."""
    if not codes:
        return []
    path: Any = literal_column("'$[*].code'::jsonpath")
    query = select(func.jsonb_path_query(m.Community.sub_areas, path, type_=JSONB).label("code"))
    if exclude is not None:
        query = query.where(m.Community.code != exclude)
    found = {str(code) for code in (await session.execute(query)).scalars()}
    return [code for code in codes if code in found]


async def community_polygons(session: AsyncSession, street_code: str) -> list[list[list[float]]]:
    query = select(m.Community.polygon).where(_live(m.Community), m.Community.street_code == street_code)
    return list((await session.execute(query)).scalars())
