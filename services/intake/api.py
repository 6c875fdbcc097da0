"""Intake's `/v1` API: the hotline files and follows complaints; units read what they handle."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.intake import repository, timeline_repository
from services.intake.contact import handling_departments, read_contact
from services.intake.context import IntakeContext, context_dependency
from services.intake.drafts import Draft
from services.intake.filing import file_draft
from services.intake.followup import record_feedback
from services.intake.merging import undo_merge
from services.intake.metrics import (
    COMPLAINTS_FILED,
    COMPLAINTS_REFUSED,
    CONTACT_READS,
    MERGES,
    note_follow_up,
    note_received,
)
from services.intake.models import Complaint
from services.intake.presenting import (
    complaint_out,
    decode_cursor,
    encode_cursor,
    resident_update_out,
    timeline_entry,
)
from services.intake.schemas import (
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    ContactOut,
    FeedbackIn,
    FeedbackOut,
    ResidentUpdateOut,
    TimelineEntry,
)
from services.intake.status import STATUSES
from shared.access import Principal, may_see_complaint
from shared.auth import require
from shared.errors import BadRequest, Forbidden, NotFound, WhistleError
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["complaints"])

ContextDep = Annotated[IntakeContext, Depends(context_dependency)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


def draft_from(body: ComplaintIn, *, idempotency_key: str | None, filed_by: str) -> Draft:
    loc = body.location
    return Draft(
        source=body.source,
        source_ref=body.source_ref,
        idempotency_key=idempotency_key,
        filed_by=filed_by,
        category=body.category,
        description=body.description,
        urgency=body.urgency,
        lat=loc.lat,
        lon=loc.lon,
        community_code=loc.community_code,
        sub_area_code=loc.sub_area_code,
        address=loc.address,
        attributes=body.attributes,
        media_urls=[str(u) for u in body.media_urls],
        name=body.reporter.name,
        phone=body.reporter.phone,
        email=body.reporter.email,
    )


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


_COMPLAINT_SCHEMA = ComplaintIn.model_json_schema()
COMPLAINT_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline(_COMPLAINT_SCHEMA, _COMPLAINT_SCHEMA.get("$defs", {}))}
        },
    }
}


async def complaint_body(request: Request, idempotency_key: IdempotencyKey = None) -> ComplaintIn:
    """The complaint, validated; `source_ref` is required unless an Idempotency-Key is sent."""
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", exc.pos), "msg": f"JSON decode error: {exc.msg}"}]
        ) from None
    errors: list[dict[str, Any]] = []
    body = None
    try:
        body = ComplaintIn.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
    if idempotency_key is None and not (isinstance(data, dict) and data.get("source_ref")):
        errors.append(
            {
                "type": "missing",
                "loc": ("body", "source_ref"),
                "msg": "Field required (or send Idempotency-Key)",
            }
        )
    if errors or body is None:
        raise RequestValidationError(errors)
    return body


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintOut,
    responses={
        200: {"model": ComplaintOut, "description": "Filed before: the same complaint"},
        409: {"description": "The reference or idempotency key was used for a different complaint"},
        413: {"description": "The body is larger than the configured limit"},
    },
    openapi_extra=COMPLAINT_BODY_DOC,
)
async def post_complaint(
    principal: Annotated[Principal, require("complaints:write")],
    body: Annotated[ComplaintIn, Depends(complaint_body)],
    response: Response,
    runtime: RuntimeDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintOut:
    """File a complaint. Repeat it (same source_ref or Idempotency-Key, same body) safely."""
    draft = draft_from(body, idempotency_key=idempotency_key, filed_by=principal.client_id)
    try:
        filed = await file_draft(engine=runtime.engine, ctx=ctx, draft=draft)
    except WhistleError as exc:
        COMPLAINTS_REFUSED.labels("v1", str(exc.status)).inc()
        raise
    COMPLAINTS_FILED.labels("v1", body.category, filed.outcome).inc()
    note_received("v1", filed, ctx.cache.index)
    if not filed.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/complaints/{filed.complaint.id}"
    return complaint_out(filed.complaint, ctx.cipher, ctx.view_or_none())


@router.get("/complaints", response_model=ComplaintPage)
async def list_complaints(
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("complaints:read")],
    status: Annotated[list[str] | None, Query(description="one or more statuses")] = None,
    category: str | None = None,
    street: str | None = None,
    community: str | None = None,
    sub_area: Annotated[
        str | None, Query(description="a residents' group or building/courtyard unit")
    ] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    followup_requested: Annotated[
        bool | None, Query(description="only those a resident asked to be followed up (or not)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ComplaintPage:
    """Newest first; follow `next_cursor` for the next page."""
    statuses = [s for value in status or [] for s in value.split(",") if s]
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise BadRequest(f"unknown status {', '.join(unknown)}; one of {', '.join(STATUSES)}")
    for moment, name in ((created_from, "created_from"), (created_to, "created_to")):
        if moment is not None and moment.tzinfo is None:
            raise BadRequest(f"{name} needs a time zone offset")
    department = None
    if principal.kind == "street":
        if street not in (None, principal.street):
            raise Forbidden(f"a client of street {principal.street} sees only its own street")
        street = principal.street
    elif principal.kind == "department":
        department = principal.department or "-"
    where = repository.ComplaintFilter(
        statuses=statuses,
        categories=[category] if category else [],
        street=street,
        community=community,
        sub_area=sub_area,
        created_from=created_from,
        created_to=created_to,
        handled_by_department=department,
        followup_requested=followup_requested,
    )
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.list_complaints(session, where, limit=limit + 1, after=after)
    view = ctx.view_or_none()
    page = rows[:limit]
    more = len(rows) > limit
    return ComplaintPage(
        items=[complaint_out(c, ctx.cipher, view) for c in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


async def visible_complaint(session: SessionDep, complaint_id: str, principal: Principal) -> Complaint:
    complaint = await repository.get(session, complaint_id)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    departments: set[str | None] = set()
    if principal.kind == "department":
        departments = await handling_departments(session, complaint.id, complaint.merged_into)
    if not may_see_complaint(principal, street_code=complaint.street_code, departments=departments):
        raise NotFound(f"no complaint {complaint_id}")  # not even its existence to other units
    return complaint


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
async def get_complaint(
    complaint_id: str,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("complaints:read")],
) -> ComplaintOut:
    complaint = await visible_complaint(session, complaint_id, principal)
    return complaint_out(complaint, ctx.cipher, ctx.view_or_none())


@router.get("/complaints/{complaint_id}/timeline", response_model=list[TimelineEntry])
async def get_timeline(
    complaint_id: str,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("complaints:read")],
) -> list[TimelineEntry]:
    """Every change the complaint went through (its kind, the status it left): when, by which unit,
    and what the resident is told."""
    complaint = await visible_complaint(session, complaint_id, principal)
    view = ctx.view_or_none()
    return [timeline_entry(c, view) for c in await timeline_repository.timeline(session, complaint.id)]


@router.get("/complaints/{complaint_id}/resident-updates", response_model=list[ResidentUpdateOut])
async def get_resident_updates(
    complaint_id: str,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("complaints:read")],
) -> list[ResidentUpdateOut]:
    """What the resident sent through an Open311 client (their text; their contact masked), oldest
    first: information added, and requests for a follow-up."""
    complaint = await visible_complaint(session, complaint_id, principal)
    updates = await timeline_repository.resident_updates(session, complaint.id)
    return [resident_update_out(u, ctx.cipher) for u in updates]


@router.post("/complaints/{complaint_id}/feedback", response_model=FeedbackOut)
async def post_feedback(
    complaint_id: str,
    body: FeedbackIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("complaints:write")],
) -> FeedbackOut:
    """The follow-up call: resolved and (basically) satisfied closes; otherwise it reopens."""
    done = await record_feedback(
        session=session, ctx=ctx, complaint_id=complaint_id, body=body, recorded_by=principal.client_id
    )
    note_follow_up(body.satisfaction, done.complaint.status)
    return FeedbackOut(
        complaint_id=done.complaint.id,
        status=done.complaint.status,
        resolved=done.feedback.resolved,
        satisfaction=done.feedback.satisfaction,
        comment=done.feedback.comment,
        reopened_complaint_id=done.reopened_complaint_id,
        at=done.feedback.at,
    )


@router.get("/complaints/{complaint_id}/contact", response_model=ContactOut)
async def get_contact(
    complaint_id: str,
    runtime: RuntimeDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("contact:read")],
) -> ContactOut:
    """The reporter's name and phone, for the street or a department handling it. Audited."""
    # Its own transaction: a refused read is audited too, so the audit row must commit either way.
    async with runtime.sessions() as session, session.begin():
        read = await read_contact(session=session, ctx=ctx, complaint_id=complaint_id, principal=principal)
    CONTACT_READS.labels(principal.kind, str(read.decision.granted).lower()).inc()
    if read.contact is None:
        raise Forbidden(read.decision.reason)
    return read.contact


@router.post("/complaints/{complaint_id}/unmerge", response_model=ComplaintOut)
async def post_unmerge(
    complaint_id: str,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, require("registry:write")],
) -> ComplaintOut:
    """Undo a merge (operators): the complaint is dispatched on its own."""
    complaint = await undo_merge(session=session, ctx=ctx, complaint_id=complaint_id, by=principal.client_id)
    MERGES.labels("unmerged").inc()
    return complaint_out(complaint, ctx.cipher, ctx.view_or_none())
