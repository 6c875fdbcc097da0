"""Writing the whole city: `replace_city` empties the registry's tables and writes a `CityData` in the
caller's transaction (history included: a reseed starts the city afresh)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.client_secrets import hash_secrets
from shared.city import Category, CityData, Community, DutyBlock, Point, PolicyVersion, Rule

# Children before parents: the order the tables are emptied in.
_TABLES = (
    m.Rule,
    m.Policy,
    m.DutyItem,
    m.DutyBlock,
    m.CommunityDutyItem,
    m.CommunityDutyBlock,
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
)


def bbox(polygon: Sequence[Point]) -> dict[str, float]:
    lons = [p[0] for p in polygon]
    lats = [p[1] for p in polygon]
    return {"min_lon": min(lons), "min_lat": min(lats), "max_lon": max(lons), "max_lat": max(lats)}


async def _insert(session: AsyncSession, model: type[m.Base], rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(model), rows)


async def replace_city(session: AsyncSession, city: CityData) -> None:
    """Write the whole city in the caller's transaction (the previous one, history included, goes)."""
    for table in _TABLES:
        await session.execute(delete(table))
    await _insert(session, m.City, [{"code": city.city.code, "name": city.city.name}])
    await _write_geography(session, city)
    await _write_organisation(session, city)
    await _write_categories_and_duty_list(session, city)
    await _insert(session, m.Rule, [rule_row(r) for r in city.rules])
    await _insert(session, m.Policy, _policy_rows(city))
    await _insert(
        session,
        m.CalendarOverride,
        [{"day": o.date, "workday": o.workday, "name": o.name} for o in city.calendar],
    )
    await _write_clients(session, city)
    await session.flush()


async def _write_geography(session: AsyncSession, city: CityData) -> None:
    streets = [(d, s) for d in city.districts for s in d.streets]
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
                "residents": c.residents,
                "area_km2": c.area_km2,
                "social_workers": c.social_workers,
                "polygon": [list(p) for p in c.polygon],
                "sub_areas": sub_area_rows(c),
                **bbox(c.polygon),
            }
            for _, s in streets
            for c in s.communities
        ],
    )


async def _write_organisation(session: AsyncSession, city: CityData) -> None:
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


async def _write_categories_and_duty_list(session: AsyncSession, city: CityData) -> None:
    await _insert(
        session, m.Category, [category_row(c) | {"position": i} for i, c in enumerate(city.categories)]
    )
    await _write_duty_list(session, city.duty_list, m.DutyBlock, m.DutyItem)
    await _write_duty_list(session, city.community_duty_list, m.CommunityDutyBlock, m.CommunityDutyItem)


async def _write_duty_list(
    session: AsyncSession, blocks: Sequence[DutyBlock], block_model: type[m.Base], item_model: type[m.Base]
) -> None:
    await _insert(
        session,
        block_model,
        [{"code": b.code, "name": b.name, "position": i} for i, b in enumerate(blocks)],
    )
    await _insert(
        session,
        item_model,
        [
            {
                "code": i.code,
                "block_code": b.code,
                "name": i.name,
                "categories": list(i.categories),
                "position": n,
            }
            for b in blocks
            for n, i in enumerate(b.items)
        ],
    )


def sub_area_rows(community: Community) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json", exclude_none=True) for a in community.sub_areas]


async def _write_clients(session: AsyncSession, city: CityData) -> None:
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
                "district": c.district,
                "community": c.community,
            }
            for c, secret_hash in zip(city.clients, hashes, strict=True)
        ],
    )


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
        "community_committee": r.community_committee,
        "lead": r.lead,
        "co": list(r.co),
        "effective_from": r.effective_from,
        "effective_to": r.effective_to,
    }


def _policy_rows(city: CityData) -> list[dict[str, Any]]:
    if city.policy_history:
        rows = [_version_row(v) for v in city.policy_history]
        if not any(v.dispatch is not None for v in city.policy_history):
            rows.append({"kind": "dispatch", "urgency": None, "body": city.policies.dispatch.model_dump()})
        if not any(v.structure is not None for v in city.policy_history):
            rows.append({"kind": "structure", "urgency": None, "body": city.policies.structure.model_dump()})
        return rows
    rows = [
        {"kind": "sla", "urgency": urgency, "body": policy.model_dump(), "effective_from": None}
        for urgency, policy in city.policies.sla.items()
    ]
    rows.append({"kind": "scoring", "urgency": None, "body": city.policies.scoring.model_dump()})
    rows.append({"kind": "dispatch", "urgency": None, "body": city.policies.dispatch.model_dump()})
    rows.append({"kind": "structure", "urgency": None, "body": city.policies.structure.model_dump()})
    return rows


def _version_row(v: PolicyVersion) -> dict[str, Any]:
    policy = v.sla or v.scoring or v.dispatch or v.structure
    kind = (
        "sla"
        if v.sla is not None
        else "scoring"
        if v.scoring is not None
        else "dispatch"
        if v.dispatch is not None
        else "structure"
    )
    return {
        "kind": kind,
        "urgency": v.urgency,
        "body": policy.model_dump() if policy else {},
        "effective_from": v.effective_from,
        "effective_to": v.effective_to,
    }
