"""SQL of the streets' evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.models import Evaluation
from services.sla.tallies import Level

EVALUATIONS = cast(Table, Evaluation.__table__)


async def put(session: AsyncSession, values: dict[str, Any]) -> tuple[Row[Any], bool]:
    """Write a street's evaluation of an agency for a period (one each); True if it is new."""
    changed = {k: values[k] for k in ("score", "comment", "evaluated_by")} | {"updated_at": func.now()}
    upsert = insert(EVALUATIONS).values(values)
    statement = upsert.on_conflict_do_update(
        index_elements=["period", "street_code", "unit_code"], set_=changed
    ).returning(*EVALUATIONS.c, (literal_column("xmax") == 0).label("created"))
    row = (await session.execute(statement)).one()
    return row, bool(row.created)


async def find(
    session: AsyncSession,
    *,
    periods: Sequence[str] | None = None,
    unit: str | None = None,
    street: str | None = None,
    department: str | None = None,
    district: str | None = None,
    limit: int = 1000,
) -> list[Row[Any]]:
    query = select(EVALUATIONS).order_by(
        EVALUATIONS.c.period, EVALUATIONS.c.unit_code, EVALUATIONS.c.street_code
    )
    if periods is not None:
        query = query.where(EVALUATIONS.c.period.in_(list(periods)))
    for column, value in (
        (EVALUATIONS.c.unit_code, unit),
        (EVALUATIONS.c.street_code, street),
        (EVALUATIONS.c.department_code, department),
        (EVALUATIONS.c.district_code, district),
    ):
        if value is not None:
            query = query.where(column == value)
    return list((await session.execute(query.limit(limit))).all())


def _unit_column(level: Level) -> ColumnElement[Any] | None:
    return {"agency": EVALUATIONS.c.unit_code, "department": EVALUATIONS.c.department_code}.get(level)


async def sums(
    session: AsyncSession, periods: Sequence[str], level: Level, *, unit: str | None = None
) -> dict[str, tuple[int, float]]:
    """Per unit of the level: (evaluations, sum of scores). Streets are not evaluated."""
    column = _unit_column(level)
    if column is None:
        return {}
    query = (
        select(column, func.count(), func.sum(EVALUATIONS.c.score))
        .where(EVALUATIONS.c.period.in_(list(periods)), column.is_not(None))
        .group_by(column)
    )
    if unit is not None:
        query = query.where(column == unit)
    return {r[0]: (int(r[1]), float(r[2])) for r in await session.execute(query)}
