"""Creating, changing and retiring districts, streets, communities and street units."""

from __future__ import annotations

from typing import Any

from shapely import Polygon
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry import repository
from services.registry.changes.flow import (
    Problems,
    get_live,
    live_reference,
    must_be_new,
    retire,
    write,
)
from services.registry.city_validation import (
    CommunityShape,
    CommunityShapes,
    sub_area_problems,
    validate_community_polygon,
    validate_polygon,
)
from services.registry.schemas import (
    CommunityIn,
    CommunityPatch,
    DistrictIn,
    DistrictPatch,
    StreetIn,
    StreetPatch,
    StreetUnitIn,
    StreetUnitPatch,
)
from shared.city import Community, Point, SubArea
from shared.events import utcnow

Written = tuple[Any, int]


# --- districts ---------------------------------------------------------------------------------------


async def create_district(session: AsyncSession, body: DistrictIn) -> Written:
    async def apply(problems: Problems) -> m.District:
        await must_be_new(session, problems, m.District, body.code, "district")
        taken = select(m.District.code).where(m.District.backstop_code == body.backstop.code)
        if (await session.execute(taken)).first():
            problems.add("backstop.code", f"backstop code {body.backstop.code!r} is taken")
        row = m.District(
            code=body.code, name=body.name, backstop_code=body.backstop.code, backstop_name=body.backstop.name
        )
        if not problems:
            session.add(row)
        return row

    return await write(session, changed="districts", reason=f"district {body.code} created", apply=apply)


async def update_district(session: AsyncSession, code: str, body: DistrictPatch) -> Written:
    async def apply(problems: Problems) -> m.District:
        row = await get_live(session, m.District, code, "district")
        if body.name is not None:
            row.name = body.name
        if body.backstop_name is not None:
            row.backstop_name = body.backstop_name
        return row

    return await write(session, changed="districts", reason=f"district {code} updated", apply=apply)


async def retire_district(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.District:
        row = await get_live(session, m.District, code, "district")
        retire(row, f"district {code!r}")
        return row

    return await write(session, changed="districts", reason=f"district {code} retired", apply=apply)


# --- streets -----------------------------------------------------------------------------------------


def _ring(polygon: list[Point] | None) -> list[list[float]] | None:
    return [list(p) for p in polygon] if polygon is not None else None


async def create_street(session: AsyncSession, body: StreetIn) -> Written:
    """A street with its own units; the agencies in `served_by` take it on, so department rules
    covering its district keep a serving agency."""

    async def apply(problems: Problems) -> m.Street:
        await must_be_new(session, problems, m.Street, body.code, "street")
        await live_reference(session, problems, m.District, body.district, "district", "district")
        if body.polygon is not None:
            problems.extend(validate_polygon(body.polygon, "polygon"))
        seen: set[str] = set()
        for i, unit in enumerate(body.units):
            if unit.code in seen or await session.get(m.StreetUnit, unit.code) is not None:
                problems.add(f"units[{i}].code", f"street unit code {unit.code!r} is taken")
            seen.add(unit.code)
        agencies = []
        for i, agency_code in enumerate(body.served_by):
            agency = await live_reference(
                session, problems, m.Agency, agency_code, f"served_by[{i}]", "agency"
            )
            if agency is not None:
                agencies.append(agency)
        if problems:
            return m.Street(code=body.code)
        row = m.Street(
            code=body.code,
            district_code=body.district,
            name=body.name,
            kind=body.kind,
            polygon=_ring(body.polygon),
        )
        session.add(row)
        await session.flush()
        session.add_all(
            [m.StreetUnit(code=u.code, street_code=body.code, name=u.name, kind=u.kind) for u in body.units]
        )
        for agency in agencies:
            agency.serves = [*agency.serves, body.code]
        return row

    return await write(
        session,
        changed="streets",
        reason=f"street {body.code} created",
        apply=apply,
        focus=lambda row: f"districts[{body.district}].streets[{row.code}]",
    )


async def update_street(session: AsyncSession, code: str, body: StreetPatch) -> Written:
    async def apply(problems: Problems) -> m.Street:
        row = await get_live(session, m.Street, code, "street")
        if body.name is not None:
            row.name = body.name
        if body.kind is not None:
            row.kind = body.kind
        if "polygon" in body.model_fields_set:
            if body.polygon is not None:
                problems.extend(validate_polygon(body.polygon, "polygon"))
            row.polygon = _ring(body.polygon)
        return row

    return await write(session, changed="streets", reason=f"street {code} updated", apply=apply)


async def retire_street(session: AsyncSession, code: str) -> Written:
    """Retires the street with its own units and takes it off its agencies' lists; its communities
    must be retired or moved first."""

    async def apply(problems: Problems) -> m.Street:
        row = await get_live(session, m.Street, code, "street")
        retire(row, f"street {code!r}")
        now = utcnow()
        units = select(m.StreetUnit).where(
            m.StreetUnit.street_code == code, m.StreetUnit.retired_at.is_(None)
        )
        for unit in (await session.execute(units)).scalars():
            unit.retired_at = now
        serving = select(m.Agency).where(m.Agency.serves.contains([code]), m.Agency.retired_at.is_(None))
        for agency in (await session.execute(serving)).scalars():
            agency.serves = [s for s in agency.serves if s != code]
        return row

    return await write(session, changed="streets", reason=f"street {code} retired", apply=apply)


# --- communities -------------------------------------------------------------------------------------


async def _polygon_problems(
    session: AsyncSession, problems: Problems, polygon: list[Point], code: str | None
) -> None:
    """Valid, and overlapping no live community near it (touching along edges is fine)."""
    found = validate_polygon(polygon, "polygon")
    if found:
        problems.extend(found)
        return
    neighbours = CommunityShapes(
        [
            CommunityShape(f"communities[{other}]", other, Polygon(ring))
            for other, ring in await repository.neighbours(session, repository.bbox(polygon), exclude=code)
        ]
    )
    problems.extend(validate_community_polygon(polygon, neighbours, "polygon", code))


async def _sub_area_problems(
    session: AsyncSession, problems: Problems, code: str, polygon: list[Point], sub_areas: list[SubArea]
) -> None:
    """Sub-areas inside the community, their codes unique here and in every other community."""
    shape = Community(code=code, name=code, polygon=polygon, sub_areas=sub_areas)
    problems.extend(sub_area_problems(shape))
    codes = [a.code for a in sub_areas]
    for taken in await repository.sub_areas_taken(session, codes, exclude=code):
        problems.add(f"sub_areas[{codes.index(taken)}].code", f"sub-area {taken!r} already exists")


async def create_community(session: AsyncSession, body: CommunityIn) -> Written:
    async def apply(problems: Problems) -> m.Community:
        await must_be_new(session, problems, m.Community, body.code, "community")
        await live_reference(session, problems, m.Street, body.street, "street", "street")
        await _polygon_problems(session, problems, body.polygon, None)
        await _sub_area_problems(session, problems, body.code, body.polygon, body.sub_areas)
        row = m.Community(
            code=body.code,
            street_code=body.street,
            name=body.name,
            households=body.households,
            residents=body.residents,
            area_km2=body.area_km2,
            social_workers=body.social_workers,
            polygon=_ring(body.polygon),
            sub_areas=[a.model_dump(mode="json", exclude_none=True) for a in body.sub_areas],
            **repository.bbox(body.polygon),
        )
        if not problems:
            session.add(row)
        return row

    return await write(session, changed="communities", reason=f"community {body.code} created", apply=apply)


async def update_community(session: AsyncSession, code: str, body: CommunityPatch) -> Written:
    async def apply(problems: Problems) -> m.Community:
        row = await get_live(session, m.Community, code, "community")
        if body.street is not None:
            await live_reference(session, problems, m.Street, body.street, "street", "street")
            row.street_code = body.street
        if body.name is not None:
            row.name = body.name
        if body.households is not None:
            row.households = body.households
        for column in ("residents", "area_km2", "social_workers"):
            if column in body.model_fields_set:
                setattr(row, column, getattr(body, column))
        if body.polygon is not None:
            await _polygon_problems(session, problems, body.polygon, code)
            row.polygon = _ring(body.polygon)  # type: ignore[assignment]
            for column, value in repository.bbox(body.polygon).items():
                setattr(row, column, value)
        if body.polygon is not None or body.sub_areas is not None:
            sub_areas = (
                body.sub_areas
                if body.sub_areas is not None
                else [SubArea.model_validate(a) for a in row.sub_areas]
            )
            polygon = body.polygon if body.polygon is not None else [tuple(p) for p in row.polygon]
            await _sub_area_problems(session, problems, code, polygon, sub_areas)  # type: ignore[arg-type]
            row.sub_areas = [a.model_dump(mode="json", exclude_none=True) for a in sub_areas]
        return row

    return await write(session, changed="communities", reason=f"community {code} updated", apply=apply)


async def retire_community(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.Community:
        row = await get_live(session, m.Community, code, "community")
        retire(row, f"community {code!r}")
        return row

    return await write(session, changed="communities", reason=f"community {code} retired", apply=apply)


# --- street units ------------------------------------------------------------------------------------


async def create_street_unit(session: AsyncSession, body: StreetUnitIn) -> Written:
    async def apply(problems: Problems) -> m.StreetUnit:
        await must_be_new(session, problems, m.StreetUnit, body.code, "street unit")
        await live_reference(session, problems, m.Street, body.street, "street", "street")
        row = m.StreetUnit(code=body.code, street_code=body.street, name=body.name, kind=body.kind)
        if not problems:
            session.add(row)
        return row

    return await write(
        session, changed="street-units", reason=f"street unit {body.code} created", apply=apply
    )


async def update_street_unit(session: AsyncSession, code: str, body: StreetUnitPatch) -> Written:
    async def apply(problems: Problems) -> m.StreetUnit:
        row = await get_live(session, m.StreetUnit, code, "street unit")
        if body.name is not None:
            row.name = body.name
        if body.kind is not None:
            row.kind = body.kind
        return row

    return await write(session, changed="street-units", reason=f"street unit {code} updated", apply=apply)


async def retire_street_unit(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.StreetUnit:
        row = await get_live(session, m.StreetUnit, code, "street unit")
        retire(row, f"street unit {code!r}")
        return row

    return await write(session, changed="street-units", reason=f"street unit {code} retired", apply=apply)
