"""Whistles: a complaint's, a street's (and the street's own whistle, 吹哨), a district's, and the
district command centre's escalations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from services.dispatch import communities, community_summons, whistles
from services.dispatch.api import cursors
from services.dispatch.api.chained import whistles_out
from services.dispatch.api.deps import Blower, IdempotencyKey, Reader, check_place_within, city_index
from services.dispatch.api.idempotency import fingerprint, once
from services.dispatch.api.views import whistle_out
from services.dispatch.models import Whistle
from services.dispatch.repository import escalations as step_rows
from services.dispatch.repository import whistles as whistle_rows
from services.dispatch.schemas import (
    EscalatedWhistleOut,
    EscalationPage,
    StreetWhistleIn,
    WhistleOut,
    WhistlePage,
)
from shared.access import (
    Principal,
    check_may_blow_whistle,
    check_may_read_district,
    check_may_read_street,
    may_read_community_whistles,
    may_read_whistles,
)
from shared.errors import Forbidden, NotFound
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["whistles"])

WHISTLE_READERS = frozenset({"department", "street", "district", "community", "admin", "viewer"})
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/whistles", response_model=list[WhistleOut])
async def complaint_whistles(session: SessionDep, principal: Reader, complaint_id: str) -> list[WhistleOut]:
    """A complaint's whistles, every round: for a department summoned for it (other departments'
    notes redacted), its street, its district, admin and viewer."""
    if principal.kind not in WHISTLE_READERS:
        raise Forbidden(f"a {principal.kind or 'unbound'} client does not read whistles")
    found = await whistle_rows.whistles_of(session, complaint_id)
    if (
        found
        and not may_read_whistles(
            principal,
            street_code=found[0].street_code,
            district_code=found[0].district_code,
            departments={a.department_code for w in found for a in w.assignments},
        )
        and not may_read_community_whistles(principal, community_codes={w.community_code for w in found})
    ):
        raise Forbidden(f"this client was not summoned for complaint {complaint_id}")
    return await _out(session, found, principal)


async def _out(session: SessionDep, found: list[Whistle] | Any, principal: Principal) -> list[WhistleOut]:
    return await whistles_out(session, found, principal)


def _district_of(request: Request, street_code: str) -> str:
    district = city_index(request).street_district.get(street_code)
    if district is None:
        raise NotFound(f"no street {street_code}")
    return district


@router.post("/streets/{street_code}/whistles", response_model=WhistleOut, status_code=201)
async def blow_whistle(
    street_code: str,
    body: StreetWhistleIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Blower,
    key: IdempotencyKey = None,
) -> Response:
    """吹哨: the street summons the departments it names (or whom the rules name) for a matter it
    cannot solve alone. 422 for a matter on its own duty list that names no department (audited)."""
    check_may_blow_whistle(principal, street_code)
    _district_of(request, street_code)
    check_place_within(request, body.location, level="street", code=street_code)
    index = city_index(request)

    async def run() -> WhistleOut:
        if body.parent_whistle_id is not None:
            await communities.check_parent(
                session, parent_whistle_id=body.parent_whistle_id, street_code=street_code
            )
        try:
            whistle_id = await whistles.blow(
                session,
                street_code=street_code,
                category=body.category,
                urgency=body.urgency,
                departments=body.departments,
                communities=body.communities,
                index=index,
                outbox=runtime.outbox,
                extra=dict(
                    description=body.description,
                    location=body.location.model_dump(exclude_none=True),
                    reason=body.reason,
                    blown_by=principal.client_id,
                    parent_whistle_id=body.parent_whistle_id,
                ),
            )
        except community_summons.OffCommunityList as exc:
            async with runtime.sessions() as own, own.begin():
                await communities.audit_refusal(
                    own,
                    kind="community_pushdown",
                    street_code=street_code,
                    community_code=None,
                    category=body.category,
                    client_id=principal.client_id,
                    reason=exc.detail,
                    version=index.version,
                )
            raise
        except whistles.StreetOwnWork as exc:
            async with runtime.sessions() as own, own.begin():
                await whistles.audit_street_refusal(
                    own,
                    street_code=street_code,
                    category=body.category,
                    client_id=principal.client_id,
                    reason=exc.detail,
                    version=index.version,
                )
            raise
        blown = await whistle_rows.whistle(session, whistle_id)
        assert blown is not None
        (out,) = await whistles_out(session, [blown], principal)
        return out

    return await once(
        session,
        client_id=principal.client_id,
        key=key,
        fingerprint=fingerprint("street-whistle", street_code, body.model_dump(mode="json")),
        status_code=201,
        run=run,
    )


@router.get("/streets/{street_code}/whistles", response_model=WhistlePage)
async def street_whistles(
    street_code: str,
    request: Request,
    session: SessionDep,
    principal: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> WhistlePage:
    """The whistles of a street, newest first: the street, its district, admin and viewer."""
    check_may_read_street(principal, street_code, district_code=_district_of(request, street_code))
    rows = await whistle_rows.whistles_page(
        session,
        street_code=street_code,
        statuses=status,
        kinds=kind,
        limit=limit,
        before=cursors.decode(cursor),
    )
    return await _whistle_page(session, list(rows), limit, principal)


@router.get("/districts/{district_code}/whistles", response_model=WhistlePage)
async def district_whistles(
    district_code: str,
    session: SessionDep,
    principal: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> WhistlePage:
    """The whistles of a district, newest first: its command centre, admin and viewer."""
    check_may_read_district(principal, district_code)
    rows = await whistle_rows.whistles_page(
        session,
        district_code=district_code,
        statuses=status,
        kinds=kind,
        limit=limit,
        before=cursors.decode(cursor),
    )
    return await _whistle_page(session, list(rows), limit, principal)


async def _whistle_page(
    session: SessionDep, rows: list[Whistle], limit: int, principal: Principal
) -> WhistlePage:
    last = rows[-1] if len(rows) == limit else None
    return WhistlePage(
        items=await _out(session, rows, principal),
        next_cursor=cursors.encode(last.issued_at, last.id) if last else None,
    )


@router.get("/districts/{district_code}/escalations", response_model=EscalationPage)
async def district_escalations(
    district_code: str,
    session: SessionDep,
    principal: Reader,
    open: bool = True,
    limit: Limit = 100,
    cursor: str | None = None,
) -> EscalationPage:
    """The district command centre's queue: whistles escalated to it, newest escalation first
    (`open=false`: also those done since)."""
    check_may_read_district(principal, district_code)
    rows = await step_rows.district_escalations(
        session, district_code=district_code, open_only=open, limit=limit, before=cursors.decode_int(cursor)
    )
    whistles_by_id = {w.id: w for w in await whistle_rows.whistles_by_id(session, [w.id for _, w in rows])}
    steps = await step_rows.steps_of(session, list(whistles_by_id))
    items = [
        EscalatedWhistleOut(
            escalation_id=step.id,
            escalated_at=step.fired_at or step.due_at,
            stage=step.stage,
            unit_code=step.unit_code,
            whistle=whistle_out(whistles_by_id[w.id], principal=principal, steps=steps),
        )
        for step, w in rows
    ]
    last = rows[-1][0] if len(rows) == limit else None
    return EscalationPage(
        items=items, next_cursor=cursors.encode(last.fired_at or last.due_at, last.id) if last else None
    )
