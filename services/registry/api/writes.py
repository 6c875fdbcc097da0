"""Admin endpoints: create, update and retire registry entities (scope `registry:write`).

Every write is checked before it counts (422 with one `errors` entry per problem, nothing written),
bumps the snapshot version and emits `registry.changed`. Retiring keeps the row (and its history);
`DELETE` retires. Rules and policies are versioned: a change starts a new version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry import views
from services.registry.changes import geography, organisation, rules
from services.registry.schemas import (
    AgencyIn,
    AgencyOut,
    AgencyPatch,
    CalendarOverrideIn,
    CalendarOverrideOut,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    CommunityIn,
    CommunityOut,
    CommunityPatch,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    DispatchPolicyIn,
    DistrictIn,
    DistrictOut,
    DistrictPatch,
    DutyBlockIn,
    DutyBlockOut,
    DutyBlockPatch,
    DutyItemIn,
    DutyItemOut,
    DutyItemPatch,
    PolicyOut,
    RuleIn,
    RuleOut,
    RulePatch,
    ScoringPolicyIn,
    SlaPolicyIn,
    StreetIn,
    StreetOut,
    StreetPatch,
    StreetUnitIn,
    StreetUnitOut,
    StreetUnitPatch,
    Written,
)
from services.registry.snapshots import SnapshotBuilder
from shared.access import Principal
from shared.auth import require
from shared.city import Urgency
from shared.events import utcnow
from shared.service_app import RowId, SessionDep


async def note_write(request: Request) -> AsyncIterator[None]:
    """Around every write: this process's resolve and route re-read the version until it shows."""
    builder: SnapshotBuilder = request.app.state.snapshots
    builder.written()
    yield
    builder.written()


router = APIRouter(prefix="/v1", tags=["registry: admin"], dependencies=[Depends(note_write)])

Admin = Annotated[Principal, require("registry:write")]


def _written(out: Any, written: tuple[Any, int]) -> Written[Any]:
    """The row as `out` renders it, with the snapshot version the write produced."""
    return Written.model_validate({"snapshot_version": written[1], "item": out(written[0])})


# --- districts ---------------------------------------------------------------------------------------


@router.post("/districts", status_code=201)
async def create_district(body: DistrictIn, session: SessionDep, principal: Admin) -> Written[DistrictOut]:
    return _written(DistrictOut.model_validate, await geography.create_district(session, body))


@router.patch("/districts/{code}")
async def update_district(
    code: str, body: DistrictPatch, session: SessionDep, principal: Admin
) -> Written[DistrictOut]:
    return _written(DistrictOut.model_validate, await geography.update_district(session, code, body))


@router.delete("/districts/{code}")
async def retire_district(code: str, session: SessionDep, principal: Admin) -> Written[DistrictOut]:
    """Retire a district; its streets must be retired first."""
    return _written(DistrictOut.model_validate, await geography.retire_district(session, code))


# --- streets, communities, street units --------------------------------------------------------------


@router.post("/streets", status_code=201)
async def create_street(body: StreetIn, session: SessionDep, principal: Admin) -> Written[StreetOut]:
    """A street with its own units; `served_by` agencies take it on (department rules covering its
    district need an agency of each kind they name serving it)."""
    return _written(views.street_out, await geography.create_street(session, body))


@router.patch("/streets/{code}")
async def update_street(
    code: str, body: StreetPatch, session: SessionDep, principal: Admin
) -> Written[StreetOut]:
    return _written(views.street_out, await geography.update_street(session, code, body))


@router.delete("/streets/{code}")
async def retire_street(code: str, session: SessionDep, principal: Admin) -> Written[StreetOut]:
    """Retire a street with its units (agencies stop serving it); its communities must go first."""
    return _written(views.street_out, await geography.retire_street(session, code))


async def _community_out(session: AsyncSession, written: tuple[m.Community, int]) -> Written[Any]:
    street = await session.get(m.Street, written[0].street_code)
    district = street.district_code if street else ""
    return _written(lambda row: views.community_out(row, district), written)


@router.post("/communities", status_code=201)
async def create_community(body: CommunityIn, session: SessionDep, principal: Admin) -> Written[CommunityOut]:
    """A community with its polygon: valid, not self-intersecting, overlapping no other community."""
    return await _community_out(session, await geography.create_community(session, body))


@router.patch("/communities/{code}")
async def update_community(
    code: str, body: CommunityPatch, session: SessionDep, principal: Admin
) -> Written[CommunityOut]:
    return await _community_out(session, await geography.update_community(session, code, body))


@router.delete("/communities/{code}")
async def retire_community(code: str, session: SessionDep, principal: Admin) -> Written[CommunityOut]:
    return await _community_out(session, await geography.retire_community(session, code))


@router.post("/street-units", status_code=201)
async def create_street_unit(
    body: StreetUnitIn, session: SessionDep, principal: Admin
) -> Written[StreetUnitOut]:
    return _written(StreetUnitOut.model_validate, await geography.create_street_unit(session, body))


@router.patch("/street-units/{code}")
async def update_street_unit(
    code: str, body: StreetUnitPatch, session: SessionDep, principal: Admin
) -> Written[StreetUnitOut]:
    return _written(StreetUnitOut.model_validate, await geography.update_street_unit(session, code, body))


@router.delete("/street-units/{code}")
async def retire_street_unit(code: str, session: SessionDep, principal: Admin) -> Written[StreetUnitOut]:
    """Retire a unit; refused while a street-unit rule still needs it at its street."""
    return _written(StreetUnitOut.model_validate, await geography.retire_street_unit(session, code))


# --- departments and agencies ------------------------------------------------------------------------


@router.post("/departments", status_code=201)
async def create_department(
    body: DepartmentIn, session: SessionDep, principal: Admin
) -> Written[DepartmentOut]:
    return _written(DepartmentOut.model_validate, await organisation.create_department(session, body))


@router.patch("/departments/{code}")
async def update_department(
    code: str, body: DepartmentPatch, session: SessionDep, principal: Admin
) -> Written[DepartmentOut]:
    return _written(DepartmentOut.model_validate, await organisation.update_department(session, code, body))


@router.delete("/departments/{code}")
async def retire_department(code: str, session: SessionDep, principal: Admin) -> Written[DepartmentOut]:
    """Retire a department; its agencies must be retired first."""
    return _written(DepartmentOut.model_validate, await organisation.retire_department(session, code))


@router.post("/agencies", status_code=201)
async def create_agency(body: AgencyIn, session: SessionDep, principal: Admin) -> Written[AgencyOut]:
    return _written(AgencyOut.model_validate, await organisation.create_agency(session, body))


@router.patch("/agencies/{code}")
async def update_agency(
    code: str, body: AgencyPatch, session: SessionDep, principal: Admin
) -> Written[AgencyOut]:
    """Change an agency; refused when a department rule would be left with a street no agency serves."""
    return _written(AgencyOut.model_validate, await organisation.update_agency(session, code, body))


@router.delete("/agencies/{code}")
async def retire_agency(code: str, session: SessionDep, principal: Admin) -> Written[AgencyOut]:
    return _written(AgencyOut.model_validate, await organisation.retire_agency(session, code))


# --- categories and the duty list --------------------------------------------------------------------


@router.post("/categories", status_code=201)
async def create_category(body: CategoryIn, session: SessionDep, principal: Admin) -> Written[CategoryOut]:
    return _written(CategoryOut.model_validate, await organisation.create_category(session, body))


@router.patch("/categories/{code}")
async def update_category(
    code: str, body: CategoryPatch, session: SessionDep, principal: Admin
) -> Written[CategoryOut]:
    return _written(CategoryOut.model_validate, await organisation.update_category(session, code, body))


@router.delete("/categories/{code}")
async def retire_category(code: str, session: SessionDep, principal: Admin) -> Written[CategoryOut]:
    """Retire a category; refused while a rule in force or a duty item still names it."""
    return _written(CategoryOut.model_validate, await organisation.retire_category(session, code))


def _block_out(row: m.DutyBlock) -> DutyBlockOut:
    return DutyBlockOut.model_validate(
        {c.key: getattr(row, c.key) for c in row.__table__.columns} | {"items": []}
    )


@router.post("/duty-list/blocks", status_code=201)
async def create_duty_block(
    body: DutyBlockIn, session: SessionDep, principal: Admin
) -> Written[DutyBlockOut]:
    return _written(_block_out, await organisation.create_duty_block(session, body))


@router.patch("/duty-list/blocks/{code}")
async def update_duty_block(
    code: str, body: DutyBlockPatch, session: SessionDep, principal: Admin
) -> Written[DutyBlockOut]:
    return _written(_block_out, await organisation.update_duty_block(session, code, body))


@router.delete("/duty-list/blocks/{code}")
async def retire_duty_block(code: str, session: SessionDep, principal: Admin) -> Written[DutyBlockOut]:
    return _written(_block_out, await organisation.retire_duty_block(session, code))


@router.post("/duty-list/items", status_code=201)
async def create_duty_item(body: DutyItemIn, session: SessionDep, principal: Admin) -> Written[DutyItemOut]:
    return _written(DutyItemOut.model_validate, await organisation.create_duty_item(session, body))


@router.patch("/duty-list/items/{code}")
async def update_duty_item(
    code: str, body: DutyItemPatch, session: SessionDep, principal: Admin
) -> Written[DutyItemOut]:
    """Change an item; taking a category off the list is refused while a rule sends it to a street unit."""
    return _written(DutyItemOut.model_validate, await organisation.update_duty_item(session, code, body))


@router.delete("/duty-list/items/{code}")
async def retire_duty_item(code: str, session: SessionDep, principal: Admin) -> Written[DutyItemOut]:
    return _written(DutyItemOut.model_validate, await organisation.retire_duty_item(session, code))


# --- rules and policies ------------------------------------------------------------------------------


def _rule_out(row: m.Rule) -> RuleOut:
    return views.rule_out(row, utcnow())


@router.post("/rules", status_code=201)
async def create_rule(body: RuleIn, session: SessionDep, principal: Admin) -> Written[RuleOut]:
    """A routing rule. Refused (422) when it hands a category that is not on the street duty list to
    a street unit, or when some street in its scope has no serving agency of a kind it names."""
    return _written(_rule_out, await rules.create_rule(session, body))


@router.patch("/rules/{rule_id}")
async def update_rule(
    rule_id: RowId, body: RulePatch, session: SessionDep, principal: Admin
) -> Written[RuleOut]:
    """A new version of the rule's target from `effective_from` (default now); the old one ends then."""
    return _written(_rule_out, await rules.update_rule(session, rule_id, body))


@router.delete("/rules/{rule_id}")
async def retire_rule(
    rule_id: RowId,
    session: SessionDep,
    principal: Admin,
    at: Annotated[datetime | None, Query(description="when the rule stops (default now)")] = None,
) -> Written[RuleOut]:
    return _written(_rule_out, await rules.retire_rule(session, rule_id, at))


def _policy_out(row: m.Policy) -> PolicyOut:
    return views.policy_out(row, utcnow())


@router.put("/policies/sla/{urgency}")
async def put_sla_policy(
    urgency: Urgency, body: SlaPolicyIn, session: SessionDep, principal: Admin
) -> Written[PolicyOut]:
    """A new version of the SLA policy for one urgency, from `effective_from` (default now)."""
    return _written(_policy_out, await rules.put_sla_policy(session, urgency, body))


@router.put("/policies/scoring")
async def put_scoring_policy(
    body: ScoringPolicyIn, session: SessionDep, principal: Admin
) -> Written[PolicyOut]:
    """A new version of the scoring weights (summing to 1), from `effective_from` (default now)."""
    return _written(_policy_out, await rules.put_scoring_policy(session, body))


@router.put("/policies/dispatch")
async def put_dispatch_policy(
    body: DispatchPolicyIn, session: SessionDep, principal: Admin
) -> Written[PolicyOut]:
    """A new version of the dispatch policy (bounce limit, escalation ladder), from `effective_from`."""
    return _written(_policy_out, await rules.put_dispatch_policy(session, body))


@router.delete("/policies/{policy_id}")
async def retire_policy(policy_id: RowId, session: SessionDep, principal: Admin) -> Written[PolicyOut]:
    """Withdraw a policy version scheduled for later (one in force is replaced, never removed)."""
    return _written(_policy_out, await rules.retire_policy(session, policy_id))


# --- the work calendar -------------------------------------------------------------------------------


def _override_out(row: m.CalendarOverride) -> CalendarOverrideOut:
    return CalendarOverrideOut.model_validate(
        {"date": row.day, "workday": row.workday, "name": row.name}
        | {k: getattr(row, k) for k in ("created_at", "updated_at", "retired_at")}
    )


@router.put("/calendar/overrides/{day}")
async def put_calendar_override(
    day: date, body: CalendarOverrideIn, session: SessionDep, principal: Admin
) -> Written[CalendarOverrideOut]:
    """Make a local date a working day or not, whatever the official calendar says."""
    return _written(_override_out, await rules.put_calendar_override(session, day, body))


@router.delete("/calendar/overrides/{day}")
async def retire_calendar_override(
    day: date, session: SessionDep, principal: Admin
) -> Written[CalendarOverrideOut]:
    return _written(_override_out, await rules.retire_calendar_override(session, day))
