"""All SQL of the registry: load the city as a `CityData`, replace it, bump the snapshot version."""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from shared.city import (
    Agency,
    Backstop,
    Category,
    CityData,
    CityInfo,
    Client,
    Community,
    Department,
    District,
    DutyBlock,
    DutyItem,
    Policies,
    Rule,
    Street,
    StreetUnit,
)


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


async def current_version(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(func.coalesce(func.max(m.SnapshotVersion.version), 0)))).scalar_one()
    )


async def bump_version(session: AsyncSession, reason: str) -> int:
    version = await current_version(session) + 1
    session.add(m.SnapshotVersion(version=version, reason=reason))
    await session.flush()
    return version


async def is_seeded(session: AsyncSession) -> bool:
    return (await session.execute(select(m.District.code).limit(1))).first() is not None


async def replace_city(session: AsyncSession, city: CityData) -> None:
    """Write the whole city in the caller's transaction (the previous one is removed)."""
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
        m.ApiClient,
        m.City,
    ):
        await session.execute(delete(table))
    session.add(m.City(code=city.city.code, name=city.city.name))
    for district in city.districts:
        session.add(
            m.District(
                code=district.code,
                name=district.name,
                backstop_code=district.backstop.code,
                backstop_name=district.backstop.name,
            )
        )
    await session.flush()
    for district in city.districts:
        for street in district.streets:
            session.add(
                m.Street(code=street.code, district_code=district.code, name=street.name, kind=street.kind)
            )
    await session.flush()
    for district in city.districts:
        for street in district.streets:
            session.add_all(
                [
                    m.StreetUnit(code=u.code, street_code=street.code, name=u.name, kind=u.kind)
                    for u in street.units
                ]
            )
            session.add_all(
                [
                    m.Community(
                        code=c.code,
                        street_code=street.code,
                        name=c.name,
                        households=c.households,
                        polygon=[list(p) for p in c.polygon],
                    )
                    for c in street.communities
                ]
            )
    session.add_all(
        [
            m.Department(code=d.code, name=d.name, kind=d.kind, level=d.level, parent_code=d.parent)
            for d in city.departments
        ]
    )
    session.add_all(
        [
            m.Category(
                code=c.code,
                name=c.name,
                name_en=c.name_en,
                group=c.group,
                description=c.description,
                keywords=list(c.keywords),
                urgency=c.urgency,
                attributes=[a.model_dump() for a in c.attributes],
                position=i,
            )
            for i, c in enumerate(city.categories)
        ]
    )
    session.add_all([m.DutyBlock(code=b.code, name=b.name, position=i) for i, b in enumerate(city.duty_list)])
    await session.flush()
    session.add_all(
        [
            m.Agency(
                code=a.code,
                department_code=d.code,
                district_code=a.district,
                name=a.name,
                serves=list(a.serves),
            )
            for d in city.departments
            for a in d.agencies
        ]
    )
    session.add_all(
        [
            m.DutyItem(code=i.code, block_code=b.code, name=i.name, categories=list(i.categories), position=n)
            for b in city.duty_list
            for n, i in enumerate(b.items)
        ]
    )
    session.add_all(
        [
            m.Rule(
                category=r.category,
                district=r.district,
                street=r.street,
                street_unit_kind=r.street_unit_kind,
                lead=r.lead,
                co=list(r.co),
            )
            for r in city.rules
        ]
    )
    session.add_all(
        [
            m.Policy(kind="sla", body={k: v.model_dump() for k, v in city.policies.sla.items()}),
            m.Policy(kind="scoring", body=city.policies.scoring.model_dump()),
        ]
    )
    session.add_all(
        [
            m.ApiClient(
                client_id=c.client_id,
                kind=c.kind,
                secret_hash=hash_secret(c.secret),
                department=c.department,
                street=c.street,
            )
            for c in city.clients
        ]
    )
    await session.flush()


async def load_city(session: AsyncSession) -> CityData:
    """The current city as the snapshot serves it (clients left out)."""

    async def rows(model: type, *order: Any) -> list[Any]:
        return list((await session.execute(select(model).order_by(*order))).scalars())

    units: dict[str, list[StreetUnit]] = defaultdict(list)
    for u in await rows(m.StreetUnit, m.StreetUnit.code):
        units[u.street_code].append(StreetUnit(code=u.code, name=u.name, kind=u.kind))
    communities: dict[str, list[Community]] = defaultdict(list)
    for c in await rows(m.Community, m.Community.code):
        communities[c.street_code].append(
            Community(
                code=c.code, name=c.name, households=c.households, polygon=[tuple(p) for p in c.polygon]
            )
        )
    streets: dict[str, list[Street]] = defaultdict(list)
    for s in await rows(m.Street, m.Street.code):
        streets[s.district_code].append(
            Street(
                code=s.code, name=s.name, kind=s.kind, units=units[s.code], communities=communities[s.code]
            )
        )
    agencies: dict[str, list[Agency]] = defaultdict(list)
    for a in await rows(m.Agency, m.Agency.code):
        agencies[a.department_code].append(
            Agency(code=a.code, name=a.name, district=a.district_code, serves=list(a.serves))
        )
    items: dict[str, list[DutyItem]] = defaultdict(list)
    for i in await rows(m.DutyItem, m.DutyItem.position):
        items[i.block_code].append(DutyItem(code=i.code, name=i.name, categories=list(i.categories)))
    info = (await session.execute(select(m.City))).scalars().first()
    policies = {p.kind: p.body for p in await rows(m.Policy, m.Policy.id) if p.effective_to is None}
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
        categories=[
            Category(
                code=c.code,
                name=c.name,
                name_en=c.name_en,
                group=c.group,
                description=c.description,
                keywords=list(c.keywords),
                urgency=c.urgency,
                attributes=c.attributes,
            )
            for c in await rows(m.Category, m.Category.position)
        ],
        duty_list=[
            DutyBlock(code=b.code, name=b.name, items=items[b.code])
            for b in await rows(m.DutyBlock, m.DutyBlock.position)
        ],
        rules=[
            Rule(
                category=r.category,
                district=r.district,
                street=r.street,
                street_unit_kind=r.street_unit_kind,
                lead=r.lead,
                co=list(r.co),
            )
            for r in await rows(m.Rule, m.Rule.id)
            if r.effective_to is None
        ],
        policies=Policies.model_validate(
            {"sla": policies.get("sla", {}), "scoring": policies.get("scoring")}
        ),
        clients=[],
    )


async def list_communities(
    session: AsyncSession, *, street: str | None, limit: int, after: str | None
) -> list[m.Community]:
    query = select(m.Community).order_by(m.Community.code).limit(limit)
    if street:
        query = query.where(m.Community.street_code == street)
    if after:
        query = query.where(m.Community.code > after)
    return list((await session.execute(query)).scalars())


async def list_categories(session: AsyncSession) -> list[m.Category]:
    return list((await session.execute(select(m.Category).order_by(m.Category.position))).scalars())


__all__ = [
    "Client",
    "bump_version",
    "current_version",
    "hash_secret",
    "is_seeded",
    "list_categories",
    "list_communities",
    "load_city",
    "replace_city",
]
