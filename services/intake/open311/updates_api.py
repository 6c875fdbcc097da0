"""Service request updates, the de-facto Open311 extension FixMyStreet-style sites use, both ways.

    GET  servicerequestupdates.{fmt}   the update stream: one update per resident-visible change
                                       (status.py maps each to an extended status), oldest first,
                                       at most 1,000 per answer; `update_id` is the timeline
                                       entry's id; residents' own updates are not echoed back
    POST servicerequestupdates.{fmt}   a resident's update (a form: api_key, service_request_id,
                                       update_id, status, description, names, email, media_url …):
                                       stored once per (client, update_id); answers the update_id
                                       it is stored as

Reads need an api_key like request reads; writes always do.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.intake import timeline_repository
from services.intake.open311 import rendering as fmt311
from services.intake.open311.documents import CreatedUpdate
from services.intake.open311.edge import (
    Open311Failure,
    Open311Route,
    begin,
    check_jurisdiction,
    form_items,
    key_holder,
    reads_in_full,
    render,
)
from services.intake.open311.forms import (
    MAX_RESULTS,
    clean_params,
    parse_update_post,
    parse_updates_query,
)
from services.intake.presenting import request_update
from services.intake.resident_updates import record_resident_update
from services.intake.status import STREAMED_KINDS

router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


@router.get("/servicerequestupdates.{fmt}")
async def get_updates(request: Request, fmt: str) -> Response:
    ctx, _view, params = begin(request, fmt)
    await reads_in_full(request, ctx, params)  # the stream holds no free text: one view for all
    query = parse_updates_query(params, tz=ctx.tz)
    if isinstance(query, list):
        raise Open311Failure(400, query)
    window = timeline_repository.Window(
        start=query.start, end=query.end, settle_seconds=ctx.settle_seconds, limit=MAX_RESULTS
    )
    async with request.app.state.runtime.sessions() as session:
        entries = await timeline_repository.stream(
            session, window, kinds=STREAMED_KINDS, complaint_ids=query.ids
        )
    found = [request_update(e, extended=query.extended) for e in entries]
    return render(fmt, fmt311.updates_json(found, tz=ctx.tz), lambda: fmt311.updates_xml(found, tz=ctx.tz))


@router.post("/servicerequestupdates.{fmt}")
async def post_update(request: Request, fmt: str) -> Response:
    ctx, view, _ = begin(request, fmt)
    params = clean_params(await form_items(request))
    check_jurisdiction(ctx, view, params.get("jurisdiction_id"))
    principal = await key_holder(request, params.get("api_key") or request.query_params.get("api_key"))
    draft = parse_update_post(params, tz=ctx.tz)
    if isinstance(draft, list):
        raise Open311Failure(400, draft)
    runtime = request.app.state.runtime
    async with runtime.sessions() as session, session.begin():
        recorded = await record_resident_update(
            session=session, ctx=ctx, draft=draft, client_id=principal.client_id
        )
    created = CreatedUpdate(recorded.update_id)
    return render(
        fmt,
        fmt311.created_update_json(created),
        lambda: fmt311.created_update_xml(created),
        201 if recorded.created else 200,
    )
