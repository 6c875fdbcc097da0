"""The registry's city-wide SQL: replace the city, read it back as a `CityData`, versions and locks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.city_validation import SLA_URGENCIES
from services.registry.client_secrets import hash_secrets
from shared.city import (
    Agency,
    Backstop,
    CalendarOverride,
    Category,
    CityData,
    CityInfo,
    Community,
    Department,
    District,
    DutyBlock,
    DutyItem,
    Point,
    Policies,
    PolicyVersion,
    Rule,
    ScoringPolicy,
    SlaPolicy,
    Street,
    StreetUnit,
)
from shared.errors import Unavailable, Unprocessable
from shared.events import utcnow

# --- versions and the write lock ---------------------------------------------------------------------


async def lock_for_write(session: AsyncSession) -> None:
    """Serialise registry writes: each validates against the state the previous one committed."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('registry.write'))"))


async def current_version(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(func.coalesce(func.max(m.SnapshotVersion.version), 0)))).scalar_one()
    )


async def bump_version(session: AsyncSession, reason: str, changed: Sequence[str] = ()) -> int:
    version = await current_version(session) + 1
    session.add(m.SnapshotVersion(version=version, reason=reason, changed=list(changed)))
    await session.flush()
    return version


async def version_created_at(session: AsyncSession, version: int) -> datetime | None:
    query = select(m.SnapshotVersion.created_at).where(m.SnapshotVersion.version == version)
    return (await session.execute(query)).scalar_one_or_none()


async def is_seeded(session: AsyncSession) -> bool:
    return (await session.execute(select(m.District.code).limit(1))).first() is not None


# --- replacing the whole city ------------------------------------------------------------------------


def bbox(polygon: Sequence[Point]) -> dict[str, float]:
    lons = [p[0] for p in polygon]
    lats = [p[1] for p in polygon]
    return {"min_lon": min(lons), "min_lat": min(lats), "max_lon": max(lons), "max_lat": max(lats)}


async def _insert(session: AsyncSession, model: type[m.Base], rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(model), rows)


async def replace_city(session: AsyncSession, city: CityData) -> None:
    """Write the whole city in the caller's transaction (the previous one, history included, goes)."""
    for table in (
        m.Rule,
        m.Policy,
        m.DutyItem,
        m.DutyBlock,
        m.Agency,
        m.Department,
        m.Category,
        m.Community,
        m.StreetUnit,
        m.Street,
        m.District,
        m.CalendarOverride,
        m.ApiClient,
        m.City,
    ):
        await session.execute(delete(table))
    streets = [(d, s) for d in city.districts for s in d.streets]
    await _insert(session, m.City, [{"code": city.city.code, "name": city.city.name}])
    await _insert(
        session,
        m.District,
        [
            {
                "code": d.code,
                "name": d.name,
                "backstop_code": d.backstop.code,
                "backstop_name": d.backstop.name,
            }
            for d in city.districts
        ],
    )
    await _insert(
        session,
        m.Street,
        [
            {
                "code": s.code,
                "district_code": d.code,
                "name": s.name,
                "kind": s.kind,
                "polygon": [list(p) for p in s.polygon] if s.polygon else None,
            }
            for d, s in streets
        ],
    )
    await _insert(
        session,
        m.StreetUnit,
        [
            {"code": u.code, "street_code": s.code, "name": u.name, "kind": u.kind}
            for _, s in streets
            for u in s.units
        ],
    )
    await _insert(
        session,
        m.Community,
        [
            {
                "code": c.code,
                "street_code": s.code,
                "name": c.name,
                "households": c.households,
                "polygon": [list(p) for p in c.polygon],
                **bbox(c.polygon),
            }
            for _, s in streets
            for c in s.communities
        ],
    )
    await _insert(
        session,
        m.Department,
        [
            {"code": d.code, "name": d.name, "kind": d.kind, "level": d.level, "parent_code": d.parent}
            for d in city.departments
        ],
    )
    await _insert(
        session,
        m.Agency,
        [
            {
                "code": a.code,
                "department_code": d.code,
                "district_code": a.district,
                "name": a.name,
                "serves": list(a.serves),
            }
            for d in city.departments
            for a in d.agencies
        ],
    )
    await _insert(
        session, m.Category, [category_row(c) | {"position": i} for i, c in enumerate(city.categories)]
    )
    await _insert(
        session,
        m.DutyBlock,
        [{"code": b.code, "name": b.name, "position": i} for i, b in enumerate(city.duty_list)],
    )
    await _insert(
        session,
        m.DutyItem,
        [
            {
                "code": i.code,
                "block_code": b.code,
                "name": i.name,
                "categories": list(i.categories),
                "position": n,
            }
            for b in city.duty_list
            for n, i in enumerate(b.items)
        ],
    )
    await _insert(session, m.Rule, [rule_row(r) for r in city.rules])
    await _insert(session, m.Policy, _policy_rows(city))
    await _insert(
        session,
        m.CalendarOverride,
        [{"day": o.date, "workday": o.workday, "name": o.name} for o in city.calendar],
    )
    hashes = await hash_secrets([c.secret for c in city.clients])
    await _insert(
        session,
        m.ApiClient,
        [
            {
                "client_id": c.client_id,
                "kind": c.kind,
                "secret_hash": secret_hash,
                "department": c.department,
                "street": c.street,
            }
            for c, secret_hash in zip(city.clients, hashes, strict=True)
        ],
    )
    await session.flush()


def category_row(c: Category) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "group": c.group,
        "description": c.description,
        "keywords": list(c.keywords),
        "urgency": c.urgency,
        "attributes": [a.model_dump() for a in c.attributes],
    }


def rule_row(r: Rule) -> dict[str, Any]:
    return {
        "category": r.category,
        "district": r.district,
        "street": r.street,
        "street_unit_kind": r.street_unit_kind,
        "street_unit": r.street_unit,
        "lead": r.lead,
        "co": list(r.co),
        "effective_from": r.effective_from,
        "effective_to": r.effective_to,
    }


def _policy_rows(city: CityData) -> list[dict[str, Any]]:
    if city.policy_history:
        return [
            {
                "kind": "sla" if v.sla is not None else "scoring",
                "urgency": v.urgency,
                "body": v.sla.model_dump() if v.sla else v.scoring.model_dump() if v.scoring else {},
                "effective_from": v.effective_from,
                "effective_to": v.effective_to,
            }
            for v in city.policy_history
        ]
    rows = [
        {"kind": "sla", "urgency": urgency, "body": policy.model_dump(), "effective_from": None}
        for urgency, policy in city.policies.sla.items()
    ]
    rows.append({"kind": "scoring", "urgency": None, "body": city.policies.scoring.model_dump()})
    return rows


# --- reading the city back ---------------------------------------------------------------------------


def _live(model: Any) -> Any:
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
    scoring: Any = None
    for version in history:
        if version.in_force(at):
            if version.sla is not None and version.urgency is not None:
                sla[version.urgency] = version.sla
            elif version.scoring is not None:
                scoring = version.scoring
    return {"sla": sla, "scoring": scoring}


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
    now = utcnow()
    units: dict[str, list[StreetUnit]] = defaultdict(list)
    unit_rows = await session.execute(
        select(m.StreetUnit.code, m.StreetUnit.street_code, m.StreetUnit.name, m.StreetUnit.kind)
        .where(_live(m.StreetUnit))
        .order_by(m.StreetUnit.code)
    )
    for code, street_code, name, kind in unit_rows:
        units[street_code].append(StreetUnit(code=code, name=name, kind=kind))
    communities: dict[str, list[Community]] = defaultdict(list)
    if geometry:
        community_rows = await session.execute(
            select(m.Community.code, m.Community.street_code, m.Community.name, m.Community.households)
            .add_columns(m.Community.polygon)
            .where(_live(m.Community))
            .order_by(m.Community.code)
        )
        for code, street_code, name, households, polygon in community_rows:
            communities[street_code].append(
                Community(code=code, name=name, households=households, polygon=[tuple(p) for p in polygon])
            )
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
    live_streets = {s.code for ss in streets.values() for s in ss}
    agencies: dict[str, list[Agency]] = defaultdict(list)
    for a in (
        await session.execute(select(m.Agency).where(_live(m.Agency)).order_by(m.Agency.code))
    ).scalars():
        agencies[a.department_code].append(
            Agency(
                code=a.code,
                name=a.name,
                district=a.district_code,
                serves=[s for s in a.serves if s in live_streets],
            )
        )
    items: dict[str, list[DutyItem]] = defaultdict(list)
    item_query = select(m.DutyItem).where(_live(m.DutyItem)).order_by(m.DutyItem.position, m.DutyItem.code)
    for i in (await session.execute(item_query)).scalars():
        items[i.block_code].append(DutyItem(code=i.code, name=i.name, categories=list(i.categories)))
    info = (await session.execute(select(m.City))).scalars().first()
    history = await load_policy_history(session, at=at)
    rules = await load_rules(session, at=at, not_ended=rules_not_ended)
    overrides = (
        await session.execute(
            select(m.CalendarOverride).where(_live(m.CalendarOverride)).order_by(m.CalendarOverride.day)
        )
    ).scalars()

    async def rows(model: Any, *order: Any) -> list[Any]:
        return list((await session.execute(select(model).where(_live(model)).order_by(*order))).scalars())

    return CityData(
        city=CityInfo(code=info.code, name=info.name) if info else CityInfo(code="city", name="city"),
        districts=[
            District(
                code=d.code,
                name=d.name,
                streets=streets[d.code],
                backstop=Backstop(code=d.backstop_code, name=d.backstop_name),
            )
            for d in await rows(m.District, m.District.code)
        ],
        departments=[
            Department(
                code=d.code,
                name=d.name,
                kind=d.kind,
                level=d.level,
                parent=d.parent_code,
                agencies=agencies[d.code],
            )
            for d in await rows(m.Department, m.Department.code)
        ],
        categories=[category_model(c) for c in await rows(m.Category, m.Category.position, m.Category.code)],
        duty_list=[
            DutyBlock(code=b.code, name=b.name, items=items[b.code])
            for b in await rows(m.DutyBlock, m.DutyBlock.position, m.DutyBlock.code)
        ],
        rules=rules,
        policies=_complete_policies(history, at or now),
        policy_history=history,
        calendar=[CalendarOverride(date=o.day, workday=o.workday, name=o.name) for o in overrides],
        clients=[],
    )


def _complete_policies(history: Sequence[PolicyVersion], at: datetime) -> Policies:
    if not history:
        raise Unavailable("the registry holds no city yet: seed one (whistle seed)")
    found = policies_at(history, at)
    missing = [u for u in SLA_URGENCIES if u not in found["sla"]] + (
        ["scoring"] if not found["scoring"] else []
    )
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


# --- guards the write path needs ---------------------------------------------------------------------


async def orphans(session: AsyncSession) -> list[tuple[str, str]]:
    """Live rows whose parent is retired: (path, message) pairs."""
    pairs: list[tuple[str, Any, Any, str, Any]] = [
        ("street", m.Street, m.Street.district_code, "district", m.District),
        ("community", m.Community, m.Community.street_code, "street", m.Street),
        ("street unit", m.StreetUnit, m.StreetUnit.street_code, "street", m.Street),
        ("agency", m.Agency, m.Agency.department_code, "department", m.Department),
        ("duty item", m.DutyItem, m.DutyItem.block_code, "duty block", m.DutyBlock),
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


async def community_polygons(session: AsyncSession, street_code: str) -> list[list[list[float]]]:
    query = select(m.Community.polygon).where(_live(m.Community), m.Community.street_code == street_code)
    return list((await session.execute(query)).scalars())


__all__ = [
    "bump_version",
    "current_version",
    "is_seeded",
    "load_city",
    "lock_for_write",
    "replace_city",
]
