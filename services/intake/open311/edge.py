"""What every `/open311/v2/` endpoint shares: answers and errors in the format asked for, the
jurisdiction check, and who may read (an api_key, or the public view when the city allows it).

Every answer under `/open311/v2/` is Open311's: a failure of any kind — ours, a validation error,
an unknown path or method (see `api.unmatched`), an unexpected exception — is an ``<errors>``
document (or its JSON list) in the format the path names (`.xml`, else JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from services.intake.city_view import CityView
from services.intake.context import IntakeContext, get_context
from services.intake.open311 import rendering as fmt311
from services.intake.open311.documents import Open311Error
from services.intake.open311.forms import clean_params
from shared.access import Principal, open311_reads_in_full
from shared.auth import principal_from_api_key
from shared.errors import Forbidden, Unauthorized, WhistleError
from shared.logging import get_logger

log = get_logger(__name__)

FORMATS = ("json", "xml")


class Open311Failure(Exception):
    def __init__(
        self, status: int, errors: list[Open311Error], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(errors[0].description if errors else str(status))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def fail(status: int, description: str) -> Open311Failure:
    return Open311Failure(status, [Open311Error(status, description)])


def format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def render(fmt: str, json_doc: Any, xml_doc: Callable[[], bytes], status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml_doc(), status_code=status, media_type=fmt311.XML_CONTENT_TYPE)
    return Response(orjson.dumps(json_doc), status_code=status, media_type=fmt311.JSON_CONTENT_TYPE)


def render_errors(fmt: str, status: int, errors: list[Open311Error]) -> Response:
    return render(fmt, fmt311.errors_json(errors), lambda: fmt311.errors_xml(errors), status)


def failure_of(exc: Exception) -> Open311Failure | None:
    """The Open311 failure an exception stands for; None for one nobody expected."""
    if isinstance(exc, Open311Failure):
        return exc
    if isinstance(exc, WhistleError):
        status = 400 if exc.status == 422 else exc.status
        errors = [Open311Error(status, e.get("message", exc.detail)) for e in exc.errors or []]
        return Open311Failure(status, errors or [Open311Error(status, exc.detail)], exc.headers)
    if isinstance(exc, RequestValidationError):
        return Open311Failure(400, [Open311Error(400, f"{e['loc'][-1]}: {e['msg']}") for e in exc.errors()])
    if isinstance(exc, HTTPException):
        return fail(exc.status_code, str(exc.detail))
    return None


class Open311Route(APIRoute):
    """Every failure under `/open311/` answers in Open311's error format, in the format asked for;
    a refused attempt (403) is audited when the service keeps an audit log."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            fmt = format_of(request.url.path)
            try:
                return await original(request)
            except Exception as exc:
                failure = failure_of(exc)
                if failure is None:
                    log.exception("intake.open311_failed", path=self.path, method=request.method)
                    failure = fail(500, "the server could not answer this request")
                if failure.status == 403:
                    await _audit_refusal(request, self.path, failure)
                response = render_errors(fmt, failure.status, failure.errors)
                response.headers.update(failure.headers)  # Retry-After of a 429, say
                if failure.status == 503 and "Retry-After" not in failure.headers:
                    response.headers["Retry-After"] = "5"
                return response

        return handler


async def _audit_refusal(request: Request, path: str, failure: Open311Failure) -> None:
    runtime = request.app.state.runtime
    audit = getattr(runtime, "audit", None)
    if audit is None:
        return
    from shared.audit import record_refusal

    principal = getattr(request.state, "principal", None)
    detail = failure.errors[0].description if failure.errors else ""
    await record_refusal(runtime.sessions, audit, principal, action=f"{request.method} {path}", detail=detail)


def begin(request: Request, fmt: str) -> tuple[IntakeContext, CityView, dict[str, str]]:
    """The context, the city, and the query parameters (empty ones dropped); checks the format and
    `jurisdiction_id`."""
    if fmt not in FORMATS:
        raise fail(404, f"unknown format {fmt!r}: use .json or .xml")
    ctx = get_context(request)
    view = ctx.view()
    params = clean_params(request.query_params.multi_items())
    check_jurisdiction(ctx, view, params.get("jurisdiction_id"))
    return ctx, view, params


def check_jurisdiction(ctx: IntakeContext, view: CityView, given: str | None) -> None:
    served = jurisdiction(ctx, view)
    if given is not None and given != served:
        raise fail(404, f"jurisdiction_id {given!r} is not served here (this is {served!r})")


def jurisdiction(ctx: IntakeContext, view: CityView) -> str:
    """The `jurisdiction_id` this endpoint serves: configured, or the city's code."""
    return ctx.jurisdiction_id or view.jurisdiction


async def key_holder(request: Request, api_key: str | None) -> Principal:
    """The hotline client an api_key belongs to (403 in Open311's format when it is missing or bad;
    a write over the client's rate is refused with 429 and Retry-After)."""
    try:
        principal = await principal_from_api_key(request, api_key)
    except (Forbidden, Unauthorized) as exc:
        raise fail(403, exc.detail) from None
    request.state.principal = principal
    return principal


async def reads_in_full(request: Request, ctx: IntakeContext, params: dict[str, str]) -> bool:
    """Whether a read gets the full view (a valid api_key) or the public one (no key, and the city
    allows public reads); 403 otherwise (the rule: shared.access `open311_reads_in_full`)."""
    api_key = params.get("api_key")
    principal = await key_holder(request, api_key) if api_key else None
    return open311_reads_in_full(principal, public_reads=ctx.public_reads)


async def form_items(request: Request) -> list[tuple[str, str]]:
    """A POSTed form's fields (url-encoded or multipart; files refused), in order."""
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
