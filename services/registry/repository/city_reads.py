"""Reading the city back as a `CityData`, and the rule and policy versions with their ranges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from shared.city import (
    URGENCIES,
    Agency,
    Backstop,
    CalendarOverride,
    Category,
    CityData,
    CityInfo,
    Community,
    Department,
    DispatchPolicy,
    District,
    DutyBlock,
    DutyItem,
    Policies,
    PolicyVersion,
    Rule,
    ScoringPolicy,
    SlaPolicy,
    Street,
    StreetUnit,
    StructurePolicy,
)
from shared.errors import Unavailable, Unprocessable
from shared.events import utcnow


def _live(model: Any) -> Any:
    """Rows not retired."""
    return model.retired_at.is_(None)


def in_force_at(model: Any, at: datetime) -> Any:
    return and_(
        or_(model.effective_from.is_(None), model.effective_from <= at),
        or_(model.effective_to.is_(None), model.effective_to > at),
    )


def not_ended_by(model: Any, at: datetime) -> Any:
    return or_(model.effective_to.is_(None), model.effective_to > at)


def rule_model(r: Any) -> Rule:
    return Rule(
        id=r.id,
        category=r.category,
        district=r.district,
        street=r.street,
        street_unit_kind=r.street_unit_kind,
        street_unit=r.street_unit,
        community_committee=r.community_committee,
        lead=r.lead,
        co=list(r.co),
        effective_from=r.effective_from,
        effective_to=r.effective_to,
    )


def policy_version(p: Any) -> PolicyVersion:
    return PolicyVersion(
        id=p.id,
        urgency=p.urgency,
        sla=SlaPolicy.model_validate(p.body) if p.kind == "sla" else None,
        scoring=ScoringPolicy.model_validate(p.body) if p.kind == "scoring" else None,
        dispatch=DispatchPolicy.model_validate(p.body) if p.kind == "dispatch" else None,
        structure=StructurePolicy.model_validate(p.body) if p.kind == "structure" else None,
        effective_from=p.effective_from,
        effective_to=p.effective_to,
    )


async def load_rules(
    session: AsyncSession, *, at: datetime | None = None, not_ended: datetime | None = None
) -> list[Rule]:
    """Rules in force at `at`, or not ended by `not_ended`, or (neither given) every rule ever."""
    query = select(m.Rule).order_by(m.Rule.id)
    if at is not None:
        query = query.where(in_force_at(m.Rule, at))
    if not_ended is not None:
        query = query.where(not_ended_by(m.Rule, not_ended))
    return [rule_model(r) for r in (await session.execute(query)).scalars()]


async def load_policy_history(session: AsyncSession, *, at: datetime | None = None) -> list[PolicyVersion]:
    query = select(m.Policy).order_by(m.Policy.id)
    if at is not None:
        query = query.where(in_force_at(m.Policy, at))
    return [policy_version(p) for p in (await session.execute(query)).scalars()]


def policies_at(history: Sequence[PolicyVersion], at: datetime) -> dict[str, Any]:
    """The policies in force at `at` as plain data (`Policies` validates completeness)."""
    sla: dict[str, Any] = {}
    found: dict[str, Any] = {"sla": sla, "scoring": None}
    for version in history:
        if version.in_force(at):
            if version.sla is not None and version.urgency is not None:
                sla[version.urgency] = version.sla
            elif version.scoring is not None:
                found["scoring"] = version.scoring
            elif version.dispatch is not None:
                found["dispatch"] = version.dispatch  # absent: the defaults
            elif version.structure is not None:
                found["structure"] = version.structure  # absent: the defaults
    return found


async def load_city(
    session: AsyncSession,
    *,
    at: datetime | None = None,
    geometry: bool = True,
    rules_not_ended: datetime | None = None,
) -> CityData:
    """The live city as a `CityData` (no clients).

    `at` given: only the rules and policy versions in force then, and `policies` as they stood then.
    Otherwise every rule and policy version with its range (or, with `rules_not_ended`, those not
    ended by that instant), and `policies` as they stand now. `geometry=False` leaves communities out.
    """
    streets = await _streets_by_district(session, geometry=geometry)
    live_streets = {s.code for ss in streets.values() for s in ss}
    info = (await session.execute(select(m.City))).scalars().first()
    history = await load_policy_history(session, at=at)
    overrides = await _live_rows(session, m.CalendarOverride, m.CalendarOverride.day)
    return CityData(
        city=CityInfo(code=info.code, name=info.name) if info else CityInfo(code="city", name="city"),
        districts=[
            District(
                code=d.code,
                name=d.name,
                streets=streets[d.code],
                backstop=Backstop(code=d.backstop_code, name=d.backstop_name),
            )
            for d in await _live_rows(session, m.District, m.District.code)
        ],
        departments=await _departments(session, live_streets),
        categories=[
            category_model(c)
            for c in await _live_rows(session, m.Category, m.Category.position, m.Category.code)
        ],
        duty_list=await _duty_list(session, m.DutyBlock, m.DutyItem),
        community_duty_list=await _duty_list(session, m.CommunityDutyBlock, m.CommunityDutyItem),
        rules=await load_rules(session, at=at, not_ended=rules_not_ended),
        policies=_complete_policies(history, at or utcnow()),
        policy_history=history,
        calendar=[CalendarOverride(date=o.day, workday=o.workday, name=o.name) for o in overrides],
        clients=[],
    )


async def _live_rows(session: AsyncSession, model: Any, *order: Any) -> list[Any]:
    return list((await session.execute(select(model).where(_live(model)).order_by(*order))).scalars())


async def _streets_by_district(session: AsyncSession, *, geometry: bool) -> dict[str, list[Street]]:
    units: dict[str, list[StreetUnit]] = defaultdict(list)
    unit_rows = await session.execute(
        select(m.StreetUnit.code, m.StreetUnit.street_code, m.StreetUnit.name, m.StreetUnit.kind)
        .where(_live(m.StreetUnit))
        .order_by(m.StreetUnit.code)
    )
    for code, street_code, name, kind in unit_rows:
        units[street_code].append(StreetUnit(code=code, name=name, kind=kind))
    communities = await _communities_by_street(session) if geometry else defaultdict(list)
    streets: dict[str, list[Street]] = defaultdict(list)
    street_rows = await session.execute(
        select(m.Street.code, m.Street.district_code, m.Street.name, m.Street.kind, m.Street.polygon)
        .where(_live(m.Street))
        .order_by(m.Street.code)
    )
    for code, district_code, name, kind, polygon in street_rows:
        streets[district_code].append(
            Street(
                code=code,
                name=name,
                kind=kind,
                polygon=[tuple(p) for p in polygon] if polygon else None,
                units=units[code],
                communities=communities[code],
            )
        )
    return streets


async def _communities_by_street(session: AsyncSession) -> dict[str, list[Community]]:
    communities: dict[str, list[Community]] = defaultdict(list)
    rows = await session.execute(
        select(m.Community.code, m.Community.street_code, m.Community.name, m.Community.households)
        .add_columns(
            m.Community.residents,
            m.Community.area_km2,
            m.Community.social_workers,
            m.Community.polygon,
            m.Community.sub_areas,
        )
        .where(_live(m.Community))
        .order_by(m.Community.code)
    )
    for code, street_code, name, households, residents, area, workers, polygon, sub_areas in rows:
        communities[street_code].append(
            Community(
                code=code,
                name=name,
                households=households,
                residents=residents,
                area_km2=area,
                social_workers=workers,
                polygon=[tuple(p) for p in polygon],
                sub_areas=sub_areas,
            )
        )
    return communities


async def _departments(session: AsyncSession, live_streets: set[str]) -> list[Department]:
    agencies: dict[str, list[Agency]] = defaultdict(list)
    for a in await _live_rows(session, m.Agency, m.Agency.code):
        agencies[a.department_code].append(
            Agency(
                code=a.code,
                name=a.name,
                district=a.district_code,
                serves=[s for s in a.serves if s in live_streets],
            )
        )
    return [
        Department(
            code=d.code,
            name=d.name,
            kind=d.kind,
            level=d.level,
            parent=d.parent_code,
            agencies=agencies[d.code],
        )
        for d in await _live_rows(session, m.Department, m.Department.code)
    ]


async def _duty_list(session: AsyncSession, block_model: Any, item_model: Any) -> list[DutyBlock]:
    items: dict[str, list[DutyItem]] = defaultdict(list)
    for i in await _live_rows(session, item_model, item_model.position, item_model.code):
        items[i.block_code].append(DutyItem(code=i.code, name=i.name, categories=list(i.categories)))
    return [
        DutyBlock(code=b.code, name=b.name, items=items[b.code])
        for b in await _live_rows(session, block_model, block_model.position, block_model.code)
    ]


def _complete_policies(history: Sequence[PolicyVersion], at: datetime) -> Policies:
    if not history:
        raise Unavailable("the registry holds no city yet: seed one (whistle seed)")
    found = policies_at(history, at)
    missing = [u for u in URGENCIES if u not in found["sla"]] + (["scoring"] if not found["scoring"] else [])
    if missing:
        raise Unprocessable(f"no {', '.join(missing)} policy was in force at {at.isoformat()}")
    return Policies.model_validate(found)


def category_model(c: m.Category) -> Category:
    return Category(
        code=c.code,
        name=c.name,
        name_en=c.name_en,
        group=c.group,
        description=c.description,
        keywords=list(c.keywords),
        urgency=c.urgency,
        attributes=c.attributes,
    )
