"""The exception tree and its RFC 9457 problem+json rendering.

    WhistleError            500, the base
    ├── BadRequest          400
    ├── Unauthorized        401
    ├── Forbidden           403
    ├── NotFound            404
    ├── Conflict            409
    ├── Unprocessable       422 (with `errors`: one entry per field problem)
    │   └── Rejected        422, raised by an event handler: this event can never be applied
    └── Unavailable         503 (to a consumer: a dependency is away, try again later)

Raise them anywhere; `install_problem_handlers` renders them, and FastAPI's own validation
errors, as `application/problem+json`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class WhistleError(Exception):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers
        self.extra = extra


class BadRequest(WhistleError):
    status, title = 400, "Bad request"


class Unauthorized(WhistleError):
    status, title = 401, "Unauthorized"


class Forbidden(WhistleError):
    status, title = 403, "Forbidden"


class NotFound(WhistleError):
    status, title = 404, "Not found"


class Conflict(WhistleError):
    status, title = 409, "Conflict"


class Unprocessable(WhistleError):
    status, title = 422, "Unprocessable content"


class Rejected(Unprocessable):
    title = "Rejected"


class Unavailable(WhistleError):
    status, title = 503, "Service unavailable"


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
