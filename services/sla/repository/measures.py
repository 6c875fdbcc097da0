"""SQL of the measures (what each case counted for) and their sums per unit, level and span."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.models import Measure
from services.sla.periods import Span
from services.sla.tallies import CASE_MEASURES, WHISTLE_MEASURE, Level, OutcomeCount

MEASURES = cast(Table, Measure.__table__)
_UPSERT = insert(MEASURES)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=[MEASURES.c.key],
    set_={c.name: _UPSERT.excluded[c.name] for c in MEASURES.c if c.name != "key"},
)


async def put(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write (or rewrite) measures by key."""
    if rows:
        await session.execute(_UPSERT, list(rows))


async def forget(session: AsyncSession, keys: Sequence[str]) -> None:
    if keys:
        await session.execute(delete(MEASURES).where(MEASURES.c.key.in_(list(keys))))


async def exclude_complaint(session: AsyncSession, complaint_id: str, reason: str) -> None:
    await session.execute(
        update(MEASURES)
        .where(MEASURES.c.complaint_id == complaint_id)
        .values(counted=False, reason=reason[:200])
    )


def _unit_column(level: Level) -> ColumnElement[Any]:
    if level == "department":
        return MEASURES.c.department_code
    if level == "street":
        return MEASURES.c.owner_street
    return MEASURES.c.unit_code


def _in_level(level: Level) -> ColumnElement[bool]:
    if level == "department":
        return MEASURES.c.department_code.is_not(None)
    if level == "street":
        return MEASURES.c.owner_street.is_not(None)
    return MEASURES.c.owner_street.is_(None)


def _scored(span: Span, level: Level, unit: str | None) -> list[ColumnElement[bool]]:
    found = [
        MEASURES.c.at >= span.start,
        MEASURES.c.at < span.end,
        MEASURES.c.measure.in_(CASE_MEASURES),
        _in_level(level),
    ]
    if unit is not None:
        found.append(_unit_column(level) == unit)
    return found


async def outcome_counts(
    session: AsyncSession, span: Span, level: Level, *, unit: str | None = None
) -> list[OutcomeCount]:
    column = _unit_column(level)
    query = (
        select(column, MEASURES.c.measure, MEASURES.c.outcome, func.count())
        .where(*_scored(span, level, unit), MEASURES.c.counted)
        .group_by(column, MEASURES.c.measure, MEASURES.c.outcome)
    )
    return [OutcomeCount(r[0], r[1], r[2], int(r[3])) for r in await session.execute(query)]


async def case_counts(
    session: AsyncSession, span: Span, level: Level, *, unit: str | None = None
) -> dict[str, int]:
    """Per unit: the complaints with at least one counted measure in the span."""
    column = _unit_column(level)
    query = (
        select(column, func.count(MEASURES.c.complaint_id.distinct()))
        .where(*_scored(span, level, unit), MEASURES.c.counted)
        .group_by(column)
    )
    return {r[0]: int(r[1]) for r in await session.execute(query)}


async def cases(session: AsyncSession, span: Span, level: Level, unit: str) -> list[Row[Any]]:
    """Every measure row of a unit in the span, counted or excluded, oldest first."""
    query = select(MEASURES).where(*_scored(span, level, unit)).order_by(MEASURES.c.at, MEASURES.c.key)
    return list((await session.execute(query)).all())


async def whistle_counts(session: AsyncSession, span: Span) -> dict[str, int]:
    """Per street: its own whistles blown in the span."""
    query = (
        select(MEASURES.c.unit_code, func.count())
        .where(MEASURES.c.measure == WHISTLE_MEASURE, MEASURES.c.at >= span.start, MEASURES.c.at < span.end)
        .group_by(MEASURES.c.unit_code)
    )
    return {r[0]: int(r[1]) for r in await session.execute(query)}
