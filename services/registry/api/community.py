"""The community level at the registry: the community duty list (社区工作准入清单), the structure's
size standards, and the structure's health against them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.registry import listing, structure_health
from services.registry import models as m
from services.registry.api.lookup import current
from services.registry.api.reads import PageDep, Reader
from services.registry.api.writes import Admin, _policy_out, _written, note_write
from services.registry.changes import community_duty, rules
from services.registry.health_schemas import FindingOut, HealthOut
from services.registry.schemas import (
    DutyBlockIn,
    DutyBlockOut,
    DutyBlockPatch,
    DutyItemIn,
    DutyItemOut,
    DutyItemPatch,
    Page,
    PolicyOut,
    StructurePolicyIn,
    Written,
)
from services.registry.snapshots import SnapshotBuilder
from shared.errors import BadRequest, NotFound
from shared.events import utcnow
from shared.runtime import Runtime
from shared.service_app import SessionDep

reads = APIRouter(prefix="/v1", tags=["registry: community level"])
writes = APIRouter(prefix="/v1", tags=["registry: admin"], dependencies=[Depends(note_write)])


def _block_out(row: Any, items: list[Any] | None = None) -> DutyBlockOut:
    columns = {c.key: getattr(row, c.key) for c in row.__table__.columns}
    return DutyBlockOut.model_validate(
        columns | {"items": [DutyItemOut.model_validate(i) for i in items or []]}
    )


@reads.get("/community-duty-list")
async def get_community_duty_list(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    category: Annotated[str | None, Query(description="only items covering this category")] = None,
) -> Page[DutyBlockOut]:
    """The community duty list (社区工作准入清单): what a community committee answers for itself,
    and the only matters that may be handed to one."""
    rows, cursor = await listing.duty_blocks(
        session,
        paging,
        category=category,
        block_model=m.CommunityDutyBlock,
        item_model=m.CommunityDutyItem,
    )
    return Page(items=[_block_out(b, i) for b, i in rows], next_cursor=cursor)


@reads.get("/community-duty-list/items/{code}")
async def get_community_duty_item(code: str, session: SessionDep, principal: Reader) -> DutyItemOut:
    row = await session.get(m.CommunityDutyItem, code)
    if row is None:
        raise NotFound(f"no community duty item {code!r}")
    return DutyItemOut.model_validate(row)


@reads.get("/structure/health")
async def get_structure_health(
    request: Request,
    principal: Reader,
    at: Annotated[datetime | None, Query(description="judge by the standards in force then")] = None,
) -> HealthOut:
    """Every street and community outside a size standard in force (`policies.structure`), furthest
    out first, with the standard that applies."""
    if at is not None and at.tzinfo is None:
        raise BadRequest("`at` needs a time zone (e.g. 2026-03-01T09:00:00+08:00)")
    if at is None:
        built = await current(request)
    else:
        builder: SnapshotBuilder = request.app.state.snapshots
        runtime: Runtime = request.app.state.runtime
        async with runtime.sessions() as session, session.begin():
            built = await builder.at(session, at)
    when = at or utcnow()
    policy = built.city.policies_at(when).structure
    findings = structure_health.health(built.city, policy)
    streets = [s for d in built.city.districts for s in d.streets]
    return HealthOut(
        snapshot_version=built.version,
        at=when,
        policy=policy,
        streets=len(streets),
        communities=sum(len(s.communities) for s in streets),
        findings=[FindingOut.model_validate(asdict(f)) for f in findings],
    )


# --- admin writes ---


@writes.post("/community-duty-list/blocks", status_code=201)
async def create_community_duty_block(
    body: DutyBlockIn, session: SessionDep, principal: Admin
) -> Written[DutyBlockOut]:
    return _written(_block_out, await community_duty.create_block(session, body))


@writes.patch("/community-duty-list/blocks/{code}")
async def update_community_duty_block(
    code: str, body: DutyBlockPatch, session: SessionDep, principal: Admin
) -> Written[DutyBlockOut]:
    return _written(_block_out, await community_duty.update_block(session, code, body))


@writes.delete("/community-duty-list/blocks/{code}")
async def retire_community_duty_block(
    code: str, session: SessionDep, principal: Admin
) -> Written[DutyBlockOut]:
    return _written(_block_out, await community_duty.retire_block(session, code))


@writes.post("/community-duty-list/items", status_code=201)
async def create_community_duty_item(
    body: DutyItemIn, session: SessionDep, principal: Admin
) -> Written[DutyItemOut]:
    return _written(DutyItemOut.model_validate, await community_duty.create_item(session, body))


@writes.patch("/community-duty-list/items/{code}")
async def update_community_duty_item(
    code: str, body: DutyItemPatch, session: SessionDep, principal: Admin
) -> Written[DutyItemOut]:
    """Change an item; taking a category off the list is refused while a rule hands it to community
    committees."""
    return _written(DutyItemOut.model_validate, await community_duty.update_item(session, code, body))


@writes.delete("/community-duty-list/items/{code}")
async def retire_community_duty_item(
    code: str, session: SessionDep, principal: Admin
) -> Written[DutyItemOut]:
    return _written(DutyItemOut.model_validate, await community_duty.retire_item(session, code))


@writes.put("/policies/structure")
async def put_structure_policy(
    body: StructurePolicyIn, session: SessionDep, principal: Admin
) -> Written[PolicyOut]:
    """A new version of the structure's size standards, from `effective_from` (default now)."""
    return _written(_policy_out, await rules.put_structure_policy(session, body))
