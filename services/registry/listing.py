"""The read side's SQL: filtered, keyset-paginated lists and single rows of every registry entity.

Cursors are opaque (base64url of the last key seen); pages are ordered by key (code, id or date).
Retired rows are left out unless `include_retired` is asked for.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.repository import in_force_at, not_ended_by
from shared.errors import BadRequest


def encode_cursor(key: Any) -> str:
    value = key.isoformat() if isinstance(key, date) else key
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise BadRequest("the cursor is not one this API gave out") from exc


@dataclass(frozen=True)
class PageRequest:
    limit: int = 100
    cursor: str | None = None
    include_retired: bool = False


async def page(
    session: AsyncSession, query: Select, key: Any, request: PageRequest, *, lifecycle: Any = None
) -> tuple[list[Any], str | None]:
    """One page of `query` ordered by `key`, and the cursor of the next page (None at the end)."""
    after = decode_cursor(request.cursor)
    if after is not None:
        if key.type.python_type is date:
            after = date.fromisoformat(after)
        query = query.where(key > after)
    if lifecycle is not None and not request.include_retired:
        query = query.where(lifecycle.retired_at.is_(None))
    result = await session.execute(query.order_by(key).limit(request.limit + 1))
    rows = list(result.scalars() if _one_entity(query) else result.all())
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    next_cursor = encode_cursor(_key_of(rows[-1], key.key)) if more and rows else None
    return rows, next_cursor


def _one_entity(query: Select) -> bool:
    described = query.column_descriptions
    return len(described) == 1 and described[0]["type"] is described[0].get("entity")


def _key_of(row: Any, name: str) -> Any:
    if isinstance(row, Row) and name not in row._fields:
        return getattr(row[0], name)
    return getattr(row, name)


def _eq(query: Select, column: Any, value: Any) -> Select:
    return query if value is None else query.where(column == value)


# --- geography ---------------------------------------------------------------------------------------


async def districts(session: AsyncSession, request: PageRequest) -> tuple[list[m.District], str | None]:
    return await page(session, select(m.District), m.District.code, request, lifecycle=m.District)


async def streets(
    session: AsyncSession, request: PageRequest, *, district: str | None, kind: str | None
) -> tuple[list[m.Street], str | None]:
    query = _eq(_eq(select(m.Street), m.Street.district_code, district), m.Street.kind, kind)
    return await page(session, query, m.Street.code, request, lifecycle=m.Street)


async def communities(
    session: AsyncSession,
    request: PageRequest,
    *,
    street: str | None,
    district: str | None,
    bbox: tuple[float, float, float, float] | None,
) -> tuple[list[Any], str | None]:
    """Rows of (community, district code)."""
    query = select(m.Community, m.Street.district_code).join(
        m.Street, m.Street.code == m.Community.street_code
    )
    query = _eq(_eq(query, m.Community.street_code, street), m.Street.district_code, district)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query = query.where(
            m.Community.min_lon <= max_lon,
            m.Community.max_lon >= min_lon,
            m.Community.min_lat <= max_lat,
            m.Community.max_lat >= min_lat,
        )
    return await page(session, query, m.Community.code, request, lifecycle=m.Community)


async def community(session: AsyncSession, code: str) -> tuple[m.Community, str] | None:
    query = (
        select(m.Community, m.Street.district_code)
        .join(m.Street, m.Street.code == m.Community.street_code)
        .where(m.Community.code == code)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def street_units(
    session: AsyncSession, request: PageRequest, *, street: str | None, kind: str | None
) -> tuple[list[m.StreetUnit], str | None]:
    query = _eq(_eq(select(m.StreetUnit), m.StreetUnit.street_code, street), m.StreetUnit.kind, kind)
    return await page(session, query, m.StreetUnit.code, request, lifecycle=m.StreetUnit)


# --- organisation ------------------------------------------------------------------------------------


async def departments(
    session: AsyncSession, request: PageRequest, *, kind: str | None, level: str | None, parent: str | None
) -> tuple[list[m.Department], str | None]:
    query = _eq(_eq(select(m.Department), m.Department.kind, kind), m.Department.level, level)
    query = _eq(query, m.Department.parent_code, parent)
    return await page(session, query, m.Department.code, request, lifecycle=m.Department)


async def agencies(
    session: AsyncSession,
    request: PageRequest,
    *,
    department: str | None,
    district: str | None,
    street: str | None,
    kind: str | None,
) -> tuple[list[m.Agency], str | None]:
    query = _eq(_eq(select(m.Agency), m.Agency.department_code, department), m.Agency.district_code, district)
    if street is not None:
        query = query.where(m.Agency.serves.contains([street]))
    if kind is not None:
        query = query.join(m.Department, m.Department.code == m.Agency.department_code).where(
            m.Department.kind == kind
        )
    return await page(session, query, m.Agency.code, request, lifecycle=m.Agency)


async def categories(
    session: AsyncSession, request: PageRequest, *, group: str | None, urgency: str | None, q: str | None
) -> tuple[list[m.Category], str | None]:
    query = _eq(_eq(select(m.Category), m.Category.group, group), m.Category.urgency, urgency)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                m.Category.name.ilike(pattern),
                m.Category.name_en.ilike(pattern),
                m.Category.code.ilike(pattern),
                m.Category.keywords.contains([q]),
            )
        )
    return await page(session, query, m.Category.code, request, lifecycle=m.Category)


async def duty_blocks(
    session: AsyncSession,
    request: PageRequest,
    *,
    category: str | None,
    block_model: Any = m.DutyBlock,
    item_model: Any = m.DutyItem,
) -> tuple[list[tuple[Any, list[Any]]], str | None]:
    """Blocks with their items (only items covering `category`, and blocks having one, if given); the
    street duty list, or the community duty list given its models."""
    query = select(block_model)
    items_query = select(item_model).order_by(item_model.position, item_model.code)
    if category is not None:
        items_query = items_query.where(item_model.categories.contains([category]))
        query = query.where(block_model.code.in_(items_query.with_only_columns(item_model.block_code)))
    if not request.include_retired:
        items_query = items_query.where(item_model.retired_at.is_(None))
    blocks, cursor = await page(session, query, block_model.code, request, lifecycle=block_model)
    items = (
        await session.execute(items_query.where(item_model.block_code.in_([b.code for b in blocks])))
    ).scalars()
    by_block: dict[str, list[Any]] = {b.code: [] for b in blocks}
    for item in items:
        by_block[item.block_code].append(item)
    return [(b, by_block[b.code]) for b in blocks], cursor


# --- rules, policies, calendar, clients --------------------------------------------------------------


async def rules(
    session: AsyncSession,
    request: PageRequest,
    *,
    category: str | None,
    district: str | None,
    street: str | None,
    at: datetime | None,
    history: bool,
    now: datetime,
) -> tuple[list[m.Rule], str | None]:
    """Rules in force at `at`; otherwise those in force now or scheduled (all of them with `history`)."""
    query = _eq(_eq(select(m.Rule), m.Rule.category, category), m.Rule.district, district)
    query = _eq(query, m.Rule.street, street)
    if at is not None:
        query = query.where(in_force_at(m.Rule, at))
    elif not history:
        query = query.where(not_ended_by(m.Rule, now))
    return await page(session, query, m.Rule.id, request)


async def policies(
    session: AsyncSession,
    request: PageRequest,
    *,
    kind: str | None,
    urgency: str | None,
    at: datetime | None,
    history: bool,
    now: datetime,
) -> tuple[list[m.Policy], str | None]:
    query = _eq(_eq(select(m.Policy), m.Policy.kind, kind), m.Policy.urgency, urgency)
    if at is not None:
        query = query.where(in_force_at(m.Policy, at))
    elif not history:
        query = query.where(not_ended_by(m.Policy, now), _not_withdrawn(m.Policy))
    return await page(session, query, m.Policy.id, request)


def _not_withdrawn(model: Any) -> Any:
    """Not a version withdrawn before it came into force (an empty range)."""
    return or_(model.effective_from.is_(None), model.effective_to.is_distinct_from(model.effective_from))


async def calendar_overrides(
    session: AsyncSession, request: PageRequest, *, start: date | None, end: date | None
) -> tuple[list[m.CalendarOverride], str | None]:
    query = select(m.CalendarOverride)
    if start is not None:
        query = query.where(m.CalendarOverride.day >= start)
    if end is not None:
        query = query.where(m.CalendarOverride.day <= end)
    return await page(session, query, m.CalendarOverride.day, request, lifecycle=m.CalendarOverride)


async def live_overrides(session: AsyncSession, start: date, end: date) -> dict[date, m.CalendarOverride]:
    query = select(m.CalendarOverride).where(
        m.CalendarOverride.retired_at.is_(None), m.CalendarOverride.day.between(start, end)
    )
    return {o.day: o for o in (await session.execute(query)).scalars()}


async def clients(
    session: AsyncSession,
    request: PageRequest,
    *,
    kind: str | None,
    department: str | None,
    street: str | None,
) -> tuple[list[Any], str | None]:
    """Client rows without their secrets (the hash is never even selected)."""
    query = select(m.ApiClient.client_id, m.ApiClient.kind, m.ApiClient.department, m.ApiClient.street)
    query = _eq(_eq(query, m.ApiClient.kind, kind), m.ApiClient.department, department)
    query = _eq(query, m.ApiClient.street, street)
    return await page(session, query, m.ApiClient.client_id, request)


async def client(session: AsyncSession, client_id: str) -> Any | None:
    query = select(m.ApiClient.client_id, m.ApiClient.kind, m.ApiClient.department, m.ApiClient.street)
    return (await session.execute(query.where(m.ApiClient.client_id == client_id))).first()
