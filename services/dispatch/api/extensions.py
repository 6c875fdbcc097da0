"""Requests for more time (延期): the approvers' lists, one request, and the decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.dispatch import approvals
from services.dispatch.api import cursors
from services.dispatch.api.deps import Caller, IdempotencyKey, Reader, actor
from services.dispatch.api.idempotency import fingerprint, once
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.repository import extensions as extension_rows
from services.dispatch.schemas import DecisionIn, ExtensionOut, ExtensionPage
from shared.access import check_may_list_extensions
from shared.errors import Forbidden, NotFound
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["extensions"])


@router.get("/extensions", response_model=ExtensionPage)
async def list_extensions(
    session: SessionDep,
    principal: Reader,
    street: str | None = None,
    district: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> ExtensionPage:
    """Requests in a street or a district, oldest first (default: the pending ones); a street or
    district client sees its own without naming it."""
    street = street or (principal.street if principal.kind == "street" else None)
    district = district or (principal.district if principal.kind == "district" else None)
    check_may_list_extensions(principal, street_code=street, district_code=district)
    rows = await extension_rows.requests_page(
        session,
        street_code=street,
        district_code=district,
        statuses=status or ["pending"],
        limit=limit,
        after=cursors.decode(cursor),
    )
    last = rows[-1] if len(rows) == limit else None
    return ExtensionPage(
        items=[ExtensionOut.model_validate(r) for r in rows],
        next_cursor=cursors.encode(last.requested_at, last.id) if last else None,
    )


@router.get("/extensions/{extension_id}", response_model=ExtensionOut)
async def get_extension(
    extension_id: str, request: Request, session: SessionDep, principal: Caller
) -> ExtensionOut:
    found = await extension_rows.request(session, extension_id)
    if found is None:
        raise NotFound(f"no extension request {extension_id}")
    assignment = await assignment_rows.assignment(session, found.assignment_id)
    approver = (principal.kind == "street" and principal.street == found.street_code) or (
        principal.kind == "district" and principal.district == found.district_code
    )
    asker = assignment is not None and actor(request, principal, None).may_act(assignment)
    if not (principal.reads_everything or approver or asker):
        raise Forbidden("this client may not read this extension request")
    return ExtensionOut.model_validate(found)


async def _decide(
    extension_id: str,
    approve: bool,
    body: DecisionIn,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Caller,
    key: str | None,
) -> Response:
    async def run() -> ExtensionOut:
        decided = await approvals.decide(
            session,
            extension_id=extension_id,
            approve=approve,
            note=body.note,
            principal=principal,
            outbox=runtime.outbox,
        )
        return ExtensionOut.model_validate(decided)

    return await once(
        session,
        client_id=principal.client_id,
        key=key,
        fingerprint=fingerprint(
            "approve" if approve else "reject", extension_id, body.model_dump(mode="json")
        ),
        status_code=200,
        run=run,
    )


@router.post("/extensions/{extension_id}/approve", response_model=ExtensionOut)
async def approve(
    extension_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Caller,
    key: IdempotencyKey = None,
    body: DecisionIn | None = None,
) -> Response:
    """The handling street or the district command centre grants the time (→ assignment.extended)."""
    return await _decide(extension_id, True, body or DecisionIn(), session, runtime, principal, key)


@router.post("/extensions/{extension_id}/reject", response_model=ExtensionOut)
async def reject(
    extension_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Caller,
    key: IdempotencyKey = None,
    body: DecisionIn | None = None,
) -> Response:
    return await _decide(extension_id, False, body or DecisionIn(), session, runtime, principal, key)
