"""Scores, rankings, scorecards and whistle-rate health, per period (a month) or custom range."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.api.common import AskedDep, IndexDep, UnitsDep
from services.sla.api.schemas import RankingsOut, ScorecardOut, ScoresOut, WhistleRateOut, WhistleRatesOut
from services.sla.repository import measures, periods
from services.sla.scorecards import scorecard
from services.sla.standings import board, ranking_row, score_row
from services.sla.tallies import Level
from services.sla.whistle_rates import whistle_rate
from shared.access import Principal, check_may_read_scorecard
from shared.auth import require
from shared.errors import NotFound
from shared.service_app import SessionDep

router = APIRouter(prefix="/v1", tags=["scores"])
Reader = Annotated[Principal, require("sla:read")]
LevelQuery = Annotated[Level, Query(description="agency | department | street")]


async def _rows(
    session: AsyncSession, asked: Any, level: Level, index: Any
) -> tuple[list[dict[str, Any]], bool]:
    """Every unit's row: as published when the period is closed, else as it stands now."""
    if asked.period is not None and await periods.closed(session, str(asked.period)) is not None:
        rows = await periods.published(session, str(asked.period), level)
        return sorted(rows, key=_order), True
    standings = (await board(session, span=asked.span, level=level, city=index.city)).standings
    return [score_row(s, level) for s in standings], False


def _order(row: dict[str, Any]) -> tuple[int, float, str]:
    return (row["rank"] if row["rank"] is not None else 1 << 30, -(row["score"] or -1.0), row["unit_code"])


@router.get("/scores", response_model=ScoresOut)
async def scores(
    session: SessionDep, index: IndexDep, asked: AskedDep, principal: Reader, level: LevelQuery = "agency"
) -> ScoresOut:
    """Each unit with a case: n, every rate with its 95 % interval, the score and whether it is
    eligible for a rank. The open period reflects events within seconds."""
    rows, closed = await _rows(session, asked, level, index)
    return ScoresOut.model_validate(
        {"period": asked.span.label, "level": level, "closed": closed, "items": rows}
    )


@router.get("/rankings", response_model=RankingsOut)
async def rankings(
    session: SessionDep, index: IndexDep, asked: AskedDep, principal: Reader, level: LevelQuery = "agency"
) -> RankingsOut:
    """Every unit with n > 0: rank (null below the minimum sample), band (overlapping intervals share
    one), score and n."""
    rows, closed = await _rows(session, asked, level, index)
    items = [ranking_row(r) for r in rows]
    return RankingsOut.model_validate(
        {"period": asked.span.label, "level": level, "closed": closed, "items": items}
    )


@router.get("/scorecards/{unit_code}", response_model=ScorecardOut)
async def read_scorecard(
    unit_code: str, session: SessionDep, units: UnitsDep, asked: AskedDep, principal: Reader
) -> ScorecardOut:
    """The unit's score explained: every case that counted and how much, every case excluded and why."""
    unit = units.get(unit_code)
    if unit is None:
        raise NotFound(f"no scored unit {unit_code} (an agency, backstop, department or street)")
    check_may_read_scorecard(
        principal,
        unit_code=unit_code,
        department_code=unit.department_code,
        street_code=unit.street_code,
        districts=unit.districts,
    )
    card = await scorecard(session, unit=unit, span=asked.span, city=units.index.city)
    if asked.period is not None and await periods.closed(session, str(asked.period)) is not None:
        published = await periods.published(session, str(asked.period), unit.level)
        card["published"] = next((r for r in published if r["unit_code"] == unit_code), None)
    return ScorecardOut.model_validate(card)


@router.get("/whistle-rates", response_model=WhistleRatesOut)
async def whistle_rates(
    session: SessionDep, index: IndexDep, asked: AskedDep, principal: Reader
) -> WhistleRatesOut:
    """Whistles each street blew per 10,000 households, flagged against the policy's band."""
    policy = index.city.policies_at(asked.span.start).scoring
    counts = await measures.whistle_counts(session, asked.span)
    items = []
    for street_code, street in index.streets.items():
        rate = whistle_rate(
            street_code,
            whistles=counts.get(street_code, 0),
            households=sum(c.households for c in street.communities),
            policy=policy,
        )
        items.append(
            WhistleRateOut(
                street_code=street_code,
                whistles=rate.whistles,
                households=rate.households,
                per_10k_households=None if rate.per_10k is None else round(rate.per_10k, 4),
                band=[rate.low, rate.high],
                flag=rate.flag,
            )
        )
    return WhistleRatesOut(period=asked.span.label, items=items)
