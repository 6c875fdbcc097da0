"""The edge of the error tree: RFC 9457 `application/problem+json` answers for every error an app
raises (the tree in `shared.errors`, FastAPI's validation errors, HTTP errors, and a dependency that
is away), installed on each service's app."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.consumer_decisions import Kind, classify
from shared.errors import PROBLEM_JSON, WhistleError
from shared.logging import get_logger

log = get_logger(__name__)


def problem(status: int, title: str, detail: str, **fields: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in fields.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""
    install_unavailable_handlers(app)

    @app.exception_handler(WhistleError)
    async def _whistle(_: Request, exc: WhistleError) -> JSONResponse:
        response = problem(exc.status, exc.title, exc.detail, errors=exc.errors, **exc.extra)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "Unprocessable content", "The request is not valid.", errors=_field_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code, str(exc.detail) if exc.status_code < 500 else "Error", str(exc.detail)
        )


# PostgreSQL's "invalid byte sequence" (a NUL in text) and "untranslatable character".
_UNSTORABLE_TEXT = frozenset({"22021", "22P05"})


def unstorable_text(exc: BaseException) -> bool:
    """A request's text PostgreSQL cannot hold (a NUL, an unpaired surrogate): the client's fault."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, UnicodeEncodeError) or getattr(seen, "sqlstate", None) in _UNSTORABLE_TEXT:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def names_nothing(exc: BaseException) -> bool:
    """A write that refers to a row that does not exist (a foreign key violated): the client's fault.
    Endpoints check what they are given first; this is the last line, never a 500."""
    return _sqlstate(exc) == "23503"


def _sqlstate(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        state = getattr(seen, "sqlstate", None)
        if state:
            return str(state)
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def install_unavailable_handlers(app: FastAPI) -> None:
    """A request that failed because the database (or another dependency) is away answers 503 with
    Retry-After, never a 500 and never a success: nothing it asked for was stored."""

    async def unavailable(request: Request, exc: Exception) -> Response:
        if unstorable_text(exc):
            return problem(
                422,
                "Unprocessable content",
                "text with a NUL character or an unpaired surrogate cannot be stored; nothing was changed",
            )
        if names_nothing(exc):
            return problem(
                422,
                "Unprocessable content",
                "the request names something that does not exist; nothing was changed",
            )
        if classify(exc) is not Kind.TRANSIENT:
            log.error("http.unhandled_error", path=request.url.path, error=repr(exc)[:500])
            return problem(500, "Internal error", "The request failed; nothing was changed.")
        log.warning("http.dependency_unavailable", path=request.url.path, error=repr(exc)[:300])
        response = problem(503, "Service unavailable", "A dependency is unavailable; retry later.")
        response.headers["Retry-After"] = "2"
        return response

    for error in (
        DBAPIError,
        SQLAlchemyTimeoutError,
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        UnicodeEncodeError,
    ):
        app.add_exception_handler(error, unavailable)
