"""Open311 GeoReport v2 under `/open311/v2/`, every document in `.json` and `.xml`.

Empty parameters count as absent; errors are Open311's own `[{code, description}]` list (all the
problems at once); datetimes are in the city's time zone. Filing goes through the same checks,
merging and events as `/v1`; the api_key names the hotline client filing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from services.intake import repository
from services.intake.city_view import CityView, attribute_defs
from services.intake.context import IntakeContext, get_context
from services.intake.filing import file_draft
from services.intake.metrics import COMPLAINTS_FILED, COMPLAINTS_REFUSED
from services.intake.open311 import rendering as fmt311
from services.intake.open311.documents import (
    SPECIFICATION_URL,
    CreatedRequest,
    Discovery,
    Endpoint,
    Open311Error,
    RequestToken,
)
from services.intake.open311.forms import ListQuery, clean_params, parse_list_query, parse_post
from services.intake.presenting import request_info
from services.intake.status import open311_statuses
from shared.auth import principal_from_api_key
from shared.errors import WhistleError

FORMATS = ("json", "xml")


class Open311Failure(Exception):
    def __init__(self, status: int, errors: list[Open311Error]) -> None:
        super().__init__(errors[0].description if errors else str(status))
        self.status = status
        self.errors = errors


def fail(status: int, description: str) -> Open311Failure:
    return Open311Failure(status, [Open311Error(status, description)])


def _format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def render(fmt: str, json_doc: Any, xml_doc: Callable[[], bytes], status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml_doc(), status_code=status, media_type=fmt311.XML_CONTENT_TYPE)
    return Response(orjson.dumps(json_doc), status_code=status, media_type=fmt311.JSON_CONTENT_TYPE)


def render_errors(fmt: str, status: int, errors: list[Open311Error]) -> Response:
    return render(fmt, fmt311.errors_json(errors), lambda: fmt311.errors_xml(errors), status)


class Open311Route(APIRoute):
    """Every failure under `/open311/` answers in Open311's error format, in the format asked for."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            fmt = _format_of(request.url.path)
            try:
                return await original(request)
            except Open311Failure as failure:
                return render_errors(fmt, failure.status, failure.errors)
            except WhistleError as exc:
                errors = [Open311Error(exc.status, e.get("message", exc.detail)) for e in exc.errors or []]
                return render_errors(fmt, exc.status, errors or [Open311Error(exc.status, exc.detail)])
            except RequestValidationError as exc:
                errors = [Open311Error(400, f"{e['loc'][-1]}: {e['msg']}") for e in exc.errors()]
                return render_errors(fmt, 400, errors)
            except HTTPException as exc:
                return render_errors(fmt, exc.status_code, [Open311Error(exc.status_code, str(exc.detail))])

        return handler


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _begin(request: Request, fmt: str) -> tuple[IntakeContext, CityView, dict[str, str]]:
    """The format, the city, and the query parameters (empty ones dropped); checks jurisdiction_id."""
    if fmt not in FORMATS:
        raise fail(404, f"unknown format {fmt!r}: use .json or .xml")
    ctx = get_context(request)
    view = ctx.view()
    params = clean_params(request.query_params.multi_items())
    _check_jurisdiction(ctx, view, params.get("jurisdiction_id"))
    return ctx, view, params


def _check_jurisdiction(ctx: IntakeContext, view: CityView, given: str | None) -> None:
    served = ctx.jurisdiction_id or view.jurisdiction
    if given is not None and given != served:
        raise fail(404, f"jurisdiction_id {given!r} is not served here (this is {served!r})")


@router.get("/discovery.{fmt}")
async def discovery(request: Request, fmt: str) -> Response:
    ctx, _view, _ = _begin(request, fmt)
    url = str(request.base_url).rstrip("/") + "/open311/v2"
    changeset = ctx.views.built_at
    doc = Discovery(
        changeset=changeset,
        contact=ctx.contact,
        key_service="api keys are issued to hotline clients by the operator (`whistle api-key <client>`)",
        endpoints=[Endpoint(SPECIFICATION_URL, url, changeset, "production")],
    )
    return render(fmt, fmt311.discovery_json(doc, tz=ctx.tz), lambda: fmt311.discovery_xml(doc, tz=ctx.tz))


@router.get("/services.{fmt}")
async def services(request: Request, fmt: str) -> Response:
    _, view, _ = _begin(request, fmt)
    found = view.services()
    return render(fmt, fmt311.services_json(found), lambda: fmt311.services_xml(found))


@router.get("/services/{service_code}.{fmt}")
async def service_definition(request: Request, service_code: str, fmt: str) -> Response:
    _, view, _ = _begin(request, fmt)
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
    ctx, view, _ = _begin(request, fmt)
    items = await _form_items(request)
    params = clean_params(items)
    _check_jurisdiction(ctx, view, params.get("jurisdiction_id"))
    try:
        api_key = params.get("api_key") or request.query_params.get("api_key") or None
        principal = await principal_from_api_key(request, api_key)
    except WhistleError as exc:
        raise fail(403, exc.detail) from None
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
        status = 400 if exc.status == 422 else exc.status
        COMPLAINTS_REFUSED.labels("open311", str(status)).inc()
        errors = [Open311Error(status, e.get("message", exc.detail)) for e in exc.errors or []]
        raise Open311Failure(status, errors or [Open311Error(status, exc.detail)]) from None
    COMPLAINTS_FILED.labels("open311", parsed.category, filed.outcome).inc()
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


async def _form_items(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise fail(400, "send the request as application/x-www-form-urlencoded or multipart/form-data")
    try:
        form = await request.form()
    except HTTPException as exc:
        raise fail(exc.status_code, f"the form could not be read: {exc.detail}") from None
    items: list[tuple[str, str]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            raise fail(400, f"{name}: files are not accepted; link media with media_url")
        items.append((name, value))
    return items


@router.get("/requests.{fmt}")
async def get_requests(request: Request, fmt: str) -> Response:
    ctx, view, params = _begin(request, fmt)
    query = parse_list_query(params, tz=ctx.tz)
    if isinstance(query, list):
        raise Open311Failure(400, query)
    runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        rows = await _find(session, query)
    found = [request_info(c, view) for c in rows]
    return render(fmt, fmt311.requests_json(found, tz=ctx.tz), lambda: fmt311.requests_xml(found, tz=ctx.tz))


async def _find(session: Any, query: ListQuery) -> list[Any]:
    if query.ids:
        return await repository.get_many(session, query.ids)
    statuses = [s for wanted in query.statuses for s in open311_statuses(wanted)]  # type: ignore[arg-type]
    where = repository.ComplaintFilter(
        statuses=statuses,
        categories=query.service_codes,
        created_from=query.start,
        created_to=query.end,
    )
    return await repository.list_complaints(
        session, where, limit=query.page_size, offset=(query.page - 1) * query.page_size
    )


@router.get("/requests/{request_id}.{fmt}")
async def get_request(request: Request, request_id: str, fmt: str) -> Response:
    ctx, view, _ = _begin(request, fmt)
    async with request.app.state.runtime.sessions() as session:
        complaint = await repository.get(session, request_id)
    if complaint is None:
        raise fail(404, f"service_request_id {request_id!r} not found")
    found = [request_info(complaint, view)]
    return render(fmt, fmt311.requests_json(found, tz=ctx.tz), lambda: fmt311.requests_xml(found, tz=ctx.tz))


@router.get("/tokens/{token}.{fmt}")
async def get_token(request: Request, token: str, fmt: str) -> Response:
    _begin(request, fmt)
    async with request.app.state.runtime.sessions() as session:
        complaint = await repository.get_by_token(session, token)
    if complaint is None:
        raise fail(404, f"token {token!r} not found")
    found = [RequestToken(token=token, service_request_id=complaint.id)]
    return render(fmt, fmt311.tokens_json(found), lambda: fmt311.tokens_xml(found))
