"""The exception tree and its RFC 9457 problem+json rendering.

    WhistleError            500, the base
    ├── BadRequest          400
    ├── Unauthorized        401
    ├── Forbidden           403
    ├── NotFound            404
    ├── Conflict            409
    ├── Unprocessable       422 (with `errors`: one entry per field problem)
    │   └── Rejected        422, raised by an event handler: this event can never be applied
    ├── TooManyRequests     429 (with Retry-After)
    └── Unavailable         503 (to a consumer: a dependency is away, try again later)

Raise them anywhere: this module is pure (no web framework), so domain modules can. The edge renders
them: `shared.problems.install_problem_handlers` turns them, and FastAPI's own validation errors,
into `application/problem+json`.
"""

from __future__ import annotations

from typing import Any, ClassVar

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


class TooManyRequests(WhistleError):
    status, title = 429, "Too many requests"

    def __init__(self, detail: str = "", *, retry_after: float, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, round(retry_after + 0.5)))}, **extra)


class Unavailable(WhistleError):
    status, title = 503, "Service unavailable"
