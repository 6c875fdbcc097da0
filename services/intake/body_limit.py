"""Refuse oversized request bodies with 413 before anything parses them.

A declared `Content-Length` over the limit is answered at once, unread; a body sent without one is
counted as it streams and cut off at the limit. The answer is problem+json, or Open311's own error
document under `/open311/`.
"""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.open311.documents import Open311Error
from services.intake.open311.rendering import JSON_CONTENT_TYPE, XML_CONTENT_TYPE, errors_json, errors_xml
from shared.errors import PROBLEM_JSON


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def too_large_response(path: str, limit: int) -> tuple[bytes, str]:
    detail = f"the request body is larger than {limit} bytes"
    if path.startswith("/open311/"):
        errors = [Open311Error(413, detail)]
        if path.endswith(".xml"):
            return errors_xml(errors), XML_CONTENT_TYPE
        return orjson.dumps(errors_json(errors)), JSON_CONTENT_TYPE
    body = {"type": "about:blank", "title": "Content too large", "status": 413, "detail": detail}
    return orjson.dumps(body), PROBLEM_JSON


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, noting_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body, content_type = too_large_response(scope.get("path", ""), self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
