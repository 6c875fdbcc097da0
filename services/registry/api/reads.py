"""Read endpoints for every registry entity: filters, cursor pagination, detail by key."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import listing, repository, views
from services.registry import models as m
from services.registry.listing import PageRequest
from services.registry.schemas import (
    AgencyOut,
    CalendarDay,
    CalendarOverrideOut,
    CategoryOut,
    ClientOut,
    CommunityDetail,
    CommunityOut,
    DepartmentOut,
    DistrictOut,
    DutyBlockOut,
    DutyItemOut,
    Page,
    PolicyOut,
    RuleOut,
    StreetDetail,
    StreetOut,
    StreetUnitOut,
)
from shared.access import Principal
from shared.auth import require
from shared.city import UnitKind, Urgency
from shared.errors import BadRequest, NotFound
from shared.events import utcnow
from shared.service_app import RowId, SessionDep

router = APIRouter(prefix="/v1", tags=["registry: read"])

T = TypeVar("T")
Reader = Annotated[Principal, require("registry:read")]
MAX_CALENDAR_DAYS = 366


async def page_request(
    limit: Annotated[int, Query(ge=1, le=1000, description="items per page")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    include_retired: Annotated[bool, Query(description="also list retired entities")] = False,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor, include_retired=include_retired)


PageDep = Annotated[PageRequest, Depends(page_request)]


async def _get(session: AsyncSession, model: type[T], key: object, what: str) -> T:
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key!r}")
    return row


# --- geography ---------------------------------------------------------------------------------------


@router.get("/districts")
async def list_districts(session: SessionDep, principal: Reader, paging: PageDep) -> Page[DistrictOut]:
    rows, cursor = await listing.districts(session, paging)
    return Page(items=[DistrictOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/districts/{code}")
async def get_district(code: str, session: SessionDep, principal: Reader) -> DistrictOut:
    return DistrictOut.model_validate(await _get(session, m.District, code, "district"))


@router.get("/streets")
async def list_streets(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    district: str | None = None,
    kind: Literal["street", "township", "area"] | None = None,
) -> Page[StreetOut]:
    rows, cursor = await listing.streets(session, paging, district=district, kind=kind)
    return Page(items=[views.street_out(r) for r in rows], next_cursor=cursor)


@router.get("/streets/{code}")
async def get_street(code: str, session: SessionDep, principal: Reader) -> StreetDetail:
    """The street with its GeoJSON geometry: the stored boundary or the union of its communities."""
    row = await _get(session, m.Street, code, "street")
    polygons = [] if row.polygon else await repository.community_polygons(session, code)
    return views.street_detail(row, polygons)


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise BadRequest("bbox is min_lon,min_lat,max_lon,max_lat")
    return parts[0], parts[1], parts[2], parts[3]


@router.get("/communities")
async def list_communities(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    street: str | None = None,
    district: str | None = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
) -> Page[CommunityOut]:
    rows, cursor = await listing.communities(
        session, paging, street=street, district=district, bbox=_bbox(bbox)
    )
    return Page(items=[views.community_out(c, d) for c, d in rows], next_cursor=cursor)


@router.get("/communities/{code}")
async def get_community(code: str, session: SessionDep, principal: Reader) -> CommunityDetail:
    """The community with its GeoJSON `geometry` (a Polygon of [lon, lat], WGS84)."""
    found = await listing.community(session, code)
    if found is None:
        raise NotFound(f"no community {code!r}")
    return views.community_detail(*found)


@router.get("/street-units")
async def list_street_units(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    street: str | None = None,
    kind: UnitKind | None = None,
) -> Page[StreetUnitOut]:
    rows, cursor = await listing.street_units(session, paging, street=street, kind=kind)
    return Page(items=[StreetUnitOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/street-units/{code}")
async def get_street_unit(code: str, session: SessionDep, principal: Reader) -> StreetUnitOut:
    return StreetUnitOut.model_validate(await _get(session, m.StreetUnit, code, "street unit"))


# --- organisation ------------------------------------------------------------------------------------


@router.get("/departments")
async def list_departments(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    kind: str | None = None,
    level: Literal["city", "district"] | None = None,
    parent: str | None = None,
) -> Page[DepartmentOut]:
    rows, cursor = await listing.departments(session, paging, kind=kind, level=level, parent=parent)
    return Page(items=[DepartmentOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/departments/{code}")
async def get_department(code: str, session: SessionDep, principal: Reader) -> DepartmentOut:
    return DepartmentOut.model_validate(await _get(session, m.Department, code, "department"))


@router.get("/agencies")
async def list_agencies(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    department: str | None = None,
    district: str | None = None,
    street: Annotated[str | None, Query(description="agencies serving this street")] = None,
    kind: Annotated[str | None, Query(description="agencies of departments of this kind")] = None,
) -> Page[AgencyOut]:
    rows, cursor = await listing.agencies(
        session, paging, department=department, district=district, street=street, kind=kind
    )
    return Page(items=[AgencyOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/agencies/{code}")
async def get_agency(code: str, session: SessionDep, principal: Reader) -> AgencyOut:
    return AgencyOut.model_validate(await _get(session, m.Agency, code, "agency"))


@router.get("/categories")
async def list_categories(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    group: str | None = None,
    urgency: Urgency | None = None,
    q: Annotated[str | None, Query(description="in the name, English name, code or keywords")] = None,
) -> Page[CategoryOut]:
    rows, cursor = await listing.categories(session, paging, group=group, urgency=urgency, q=q)
    return Page(items=[CategoryOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/categories/{code}")
async def get_category(code: str, session: SessionDep, principal: Reader) -> CategoryOut:
    return CategoryOut.model_validate(await _get(session, m.Category, code, "category"))


@router.get("/duty-list")
async def get_duty_list(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    category: Annotated[str | None, Query(description="only items covering this category")] = None,
) -> Page[DutyBlockOut]:
    """The street duty list (街道职责清单): its blocks with their items and the categories each covers."""
    rows, cursor = await listing.duty_blocks(session, paging, category=category)
    return Page(
        items=[DutyBlockOut.model_validate(_block(b, i)) for b, i in rows],
        next_cursor=cursor,
    )


def _block(block: m.DutyBlock, items: list[m.DutyItem]) -> dict[str, object]:
    return {
        "code": block.code,
        "name": block.name,
        "position": block.position,
        "created_at": block.created_at,
        "updated_at": block.updated_at,
        "retired_at": block.retired_at,
        "items": [DutyItemOut.model_validate(i) for i in items],
    }


@router.get("/duty-list/items/{code}")
async def get_duty_item(code: str, session: SessionDep, principal: Reader) -> DutyItemOut:
    return DutyItemOut.model_validate(await _get(session, m.DutyItem, code, "duty item"))


# --- rules and policies ------------------------------------------------------------------------------


@router.get("/rules")
async def list_rules(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    category: str | None = None,
    district: str | None = None,
    street: str | None = None,
    at: Annotated[datetime | None, Query(description="only the rules in force at this instant")] = None,
    history: Annotated[bool, Query(description="every version, ended ones too")] = False,
) -> Page[RuleOut]:
    """Rules in force now or scheduled (by default), in force `at` an instant, or all of them."""
    now = utcnow()
    rows, cursor = await listing.rules(
        session,
        paging,
        category=category,
        district=district,
        street=street,
        at=_aware(at),
        history=history,
        now=now,
    )
    return Page(items=[views.rule_out(r, now) for r in rows], next_cursor=cursor)


@router.get("/rules/{rule_id}")
async def get_rule(rule_id: RowId, session: SessionDep, principal: Reader) -> RuleOut:
    row = await _get(session, m.Rule, rule_id, "rule")
    return views.rule_out(row, utcnow())


@router.get("/policies")
async def list_policies(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    kind: Literal["sla", "scoring"] | None = None,
    urgency: Urgency | None = None,
    at: Annotated[datetime | None, Query(description="only the versions in force at this instant")] = None,
    history: Annotated[bool, Query(description="every version, ended and withdrawn ones too")] = False,
) -> Page[PolicyOut]:
    """SLA policies per urgency and the scoring policy: in force now or scheduled (by default)."""
    now = utcnow()
    rows, cursor = await listing.policies(
        session, paging, kind=kind, urgency=urgency, at=_aware(at), history=history, now=now
    )
    return Page(items=[views.policy_out(r, now) for r in rows], next_cursor=cursor)


@router.get("/policies/{policy_id}")
async def get_policy(policy_id: RowId, session: SessionDep, principal: Reader) -> PolicyOut:
    row = await _get(session, m.Policy, policy_id, "policy version")
    return views.policy_out(row, utcnow())


def _aware(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise BadRequest("`at` needs a time zone (e.g. 2026-03-01T09:00:00+08:00)")
    return at


# --- calendar and clients ----------------------------------------------------------------------------


@router.get("/calendar")
async def get_calendar(
    session: SessionDep,
    principal: Reader,
    start: Annotated[date | None, Query(alias="from", description="first day (default today)")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day (default 30 days on)")] = None,
) -> list[CalendarDay]:
    """Working days as the deadlines count them: official holidays and make-up days, local overrides."""
    first = start or utcnow().date()
    last = end or first + timedelta(days=30)
    if last < first or (last - first).days >= MAX_CALENDAR_DAYS:
        raise BadRequest(f"`to` must be on or after `from`, at most {MAX_CALENDAR_DAYS} days in all")
    overrides = await listing.live_overrides(session, first, last)
    return views.calendar_days(first, last, {d: (o.workday, o.name) for d, o in overrides.items()})


@router.get("/calendar/overrides")
async def list_calendar_overrides(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Page[CalendarOverrideOut]:
    rows, cursor = await listing.calendar_overrides(session, paging, start=start, end=end)
    return Page(
        items=[
            CalendarOverrideOut.model_validate(
                {"date": r.day, "workday": r.workday, "name": r.name}
                | {k: getattr(r, k) for k in ("created_at", "updated_at", "retired_at")}
            )
            for r in rows
        ],
        next_cursor=cursor,
    )


@router.get("/clients")
async def list_clients(
    session: SessionDep,
    principal: Annotated[Principal, require("clients:read")],
    paging: PageDep,
    kind: str | None = None,
    department: str | None = None,
    street: str | None = None,
) -> Page[ClientOut]:
    """API clients (admin): who they are and what they are bound to; never their secrets."""
    rows, cursor = await listing.clients(session, paging, kind=kind, department=department, street=street)
    return Page(items=[ClientOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/clients/{client_id}")
async def get_client(
    client_id: str, session: SessionDep, principal: Annotated[Principal, require("clients:read")]
) -> ClientOut:
    row = await listing.client(session, client_id)
    if row is None:
        raise NotFound(f"no client {client_id!r}")
    return ClientOut.model_validate(row)
