"""Open311 GeoReport v2 under `/open311/v2/`, every document in `.json` and `.xml`.

Empty parameters count as absent; errors are Open311's own `[{code, description}]` list (all the
problems at once), for unknown paths and methods too; datetimes are in the city's time zone.
Filing goes through the same checks, merging and events as `/v1`; the api_key names the hotline
client filing. Request reads need an api_key unless the city turned public reads on (then a read
without one gets the public view). Searches with a window and the update stream
(`updates_api`) answer oldest change first, at most 1,000: discovery says how to follow them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from services.intake import repository, timeline_repository
from services.intake.city_view import attribute_defs
from services.intake.context import IntakeContext
from services.intake.filing import file_draft
from services.intake.metrics import COMPLAINTS_FILED, COMPLAINTS_REFUSED, note_received
from services.intake.open311 import rendering as fmt311
from services.intake.open311.documents import (
    EXTENSIONS_URL,
    SPECIFICATION_URL,
    CreatedRequest,
    Discovery,
    Endpoint,
    RequestToken,
    Resource,
)
from services.intake.open311.edge import (
    Open311Failure,
    Open311Route,
    begin,
    check_jurisdiction,
    fail,
    form_items,
    format_of,
    jurisdiction,
    key_holder,
    reads_in_full,
    render,
    render_errors,
)
from services.intake.open311.forms import (
    MAX_PAGE_DEPTH,
    MAX_RESULTS,
    ListQuery,
    clean_params,
    parse_list_query,
    parse_post,
)
from services.intake.open311.updates_api import router as updates_router
from services.intake.presenting import request_info
from services.intake.status import open311_statuses
from shared.errors import WhistleError

router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _sync_note(ctx: IntakeContext) -> str:
    return (
        "GET requests (searched by start_date/end_date) and GET servicerequestupdates select by "
        "updated_datetime, when a change was recorded here, inclusive at both ends; they answer the "
        f"oldest first, at most {MAX_RESULTS} items, and only changes older than "
        f"{ctx.settle_seconds:g} seconds. To read a window completely, ask again with start_date = "
        "the last item's updated_datetime (to the microsecond, as given) and skip the ids you already "
        f"have, until an answer holds fewer than {MAX_RESULTS} items. Without dates the window is "
        f"the last 90 days; page and page_size reach the first {MAX_PAGE_DEPTH} results only."
    )


@router.get("/discovery.{fmt}")
async def discovery(request: Request, fmt: str) -> Response:
    ctx, view, _ = begin(request, fmt)
    url = str(request.base_url).rstrip("/") + "/open311/v2"
    changeset = ctx.views.built_at
    reads = "optional" if ctx.public_reads else "required"
    georeport = [
        Resource("discovery", ["GET"]),
        Resource("services", ["GET"]),
        Resource("services/{service_code}", ["GET"]),
        Resource("requests", ["POST"], "required"),
        Resource("requests", ["GET"], reads),
        Resource("requests/{service_request_id}", ["GET"], reads),
        Resource("tokens/{token}", ["GET"]),
    ]
    updates = [
        Resource("servicerequestupdates", ["GET"], reads),
        Resource("servicerequestupdates", ["POST"], "required"),
    ]
    doc = Discovery(
        changeset=changeset,
        contact=ctx.contact,
        key_service="api keys are issued to hotline clients by the operator (`whistle api-key <client>`)",
        endpoints=[
            Endpoint(SPECIFICATION_URL, url, changeset, "production", resources=georeport),
            Endpoint(EXTENSIONS_URL, url, changeset, "production", resources=updates),
        ],
        jurisdiction_id=jurisdiction(ctx, view),
        sync=_sync_note(ctx),
    )
    return render(fmt, fmt311.discovery_json(doc, tz=ctx.tz), lambda: fmt311.discovery_xml(doc, tz=ctx.tz))


@router.get("/services.{fmt}")
async def services(request: Request, fmt: str) -> Response:
    _, view, _ = begin(request, fmt)
    found = view.services()
    return render(fmt, fmt311.services_json(found), lambda: fmt311.services_xml(found))


@router.get("/services/{service_code}.{fmt}")
async def service_definition(request: Request, service_code: str, fmt: str) -> Response:
    _, view, _ = begin(request, fmt)
    category = view.categories.get(service_code)
    if category is None:
        raise fail(404, f"service_code {service_code!r} not found")
    attrs = attribute_defs(category)
    return render(
        fmt,
        fmt311.service_definition_json(service_code, attrs),
        lambda: fmt311.service_definition_xml(service_code, attrs),
    )


@router.post("/requests.{fmt}")
async def post_request(request: Request, fmt: str) -> Response:
    ctx, view, _ = begin(request, fmt)
    items = await form_items(request)
    params = clean_params(items)
    check_jurisdiction(ctx, view, params.get("jurisdiction_id"))
    principal = await key_holder(request, params.get("api_key") or request.query_params.get("api_key"))
    key = request.headers.get("idempotency-key") or None
    parsed = parse_post(
        params,
        items,
        view,
        filed_by=principal.client_id,
        idempotency_key=f"{principal.client_id}:{key}" if key else None,
    )
    if isinstance(parsed, list):
        COMPLAINTS_REFUSED.labels("open311", "400").inc()
        raise Open311Failure(400, parsed)
    try:
        filed = await file_draft(engine=request.app.state.runtime.engine, ctx=ctx, draft=parsed)
    except WhistleError as exc:
        COMPLAINTS_REFUSED.labels("open311", str(400 if exc.status == 422 else exc.status)).inc()
        raise
    COMPLAINTS_FILED.labels("open311", parsed.category, filed.outcome).inc()
    note_received("open311", filed, ctx.cache.index)
    complaint = filed.complaint
    notice = (
        f"merged into {complaint.merged_into}, reported by the same residents"
        if complaint.merged_into
        else None
    )
    created = [CreatedRequest(complaint.id, complaint.tracking_token, notice)]
    return render(
        fmt,
        fmt311.created_json(created),
        lambda: fmt311.created_xml(created),
        201 if filed.created else 200,
    )


@router.get("/requests.{fmt}")
async def get_requests(request: Request, fmt: str) -> Response:
    ctx, view, params = begin(request, fmt)
    full = await reads_in_full(request, ctx, params)
    query = parse_list_query(params, tz=ctx.tz)
    if isinstance(query, list):
        raise Open311Failure(400, query)
    async with request.app.state.runtime.sessions() as session:
        rows = await _find(session, ctx, query)
    found = [request_info(c, view, full=full) for c in rows]
    return render(fmt, fmt311.requests_json(found, tz=ctx.tz), lambda: fmt311.requests_xml(found, tz=ctx.tz))


async def _find(session: Any, ctx: IntakeContext, query: ListQuery) -> list[Any]:
    if query.ids:
        return await repository.get_many(session, query.ids)
    assert query.start is not None and query.end is not None
    statuses = [s for wanted in query.statuses for s in open311_statuses(wanted)]  # type: ignore[arg-type]
    where = repository.ComplaintFilter(statuses=statuses, categories=query.service_codes)
    window = timeline_repository.Window(
        start=query.start,
        end=query.end,
        settle_seconds=ctx.settle_seconds,
        limit=query.page_size,
        offset=(query.page - 1) * query.page_size,
    )
    return await timeline_repository.list_changed(session, where, window)


@router.get("/requests/{request_id}.{fmt}")
async def get_request(request: Request, request_id: str, fmt: str) -> Response:
    ctx, view, params = begin(request, fmt)
    full = await reads_in_full(request, ctx, params)
    async with request.app.state.runtime.sessions() as session:
        complaint = await repository.get(session, request_id)
    if complaint is None:
        raise fail(404, f"service_request_id {request_id!r} not found")
    found = [request_info(complaint, view, full=full)]
    return render(fmt, fmt311.requests_json(found, tz=ctx.tz), lambda: fmt311.requests_xml(found, tz=ctx.tz))


@router.get("/tokens/{token}.{fmt}")
async def get_token(request: Request, token: str, fmt: str) -> Response:
    begin(request, fmt)
    async with request.app.state.runtime.sessions() as session:
        complaint = await repository.get_by_token(session, token)
    if complaint is None:
        raise fail(404, f"token {token!r} not found")
    found = [RequestToken(token=token, service_request_id=complaint.id)]
    return render(fmt, fmt311.tokens_json(found), lambda: fmt311.tokens_xml(found))


# Included last: what no resource above answers.
fallback = APIRouter(prefix="/open311/v2", route_class=Open311Route, include_in_schema=False)
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@fallback.api_route("/{path:path}", methods=_EVERY_METHOD)
async def unmatched(request: Request, path: str) -> Response:
    """Anything else under `/open311/v2/`: 405 (with Allow) for a known path asked with another
    method, 404 otherwise — in Open311's format, as every answer here."""
    fmt = format_of(request.url.path)
    allowed = sorted(
        {
            method
            for route in (*router.routes, *updates_router.routes)
            if isinstance(route, APIRoute) and route.matches(request.scope)[0] == Match.PARTIAL
            for method in route.methods or ()
        }
    )
    if allowed:
        response = render_errors(fmt, 405, fail(405, f"{request.method} is not allowed here").errors)
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return render_errors(fmt, 404, fail(404, f"no such resource: /open311/v2/{path}").errors)


ROUTERS = [router, updates_router, fallback]
"""Open311's routers, in the order the app includes them (the fallback last)."""
