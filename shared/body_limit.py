"""Refuse oversized request bodies with 413 before anything parses them (every service).

A declared `Content-Length` over the limit is answered without handing anything to the app; a body
sent without one is counted as it streams and cut off at the limit. Before answering, the rest of the
body is read and thrown away (up to `DRAIN_FACTOR` times the limit, and at least `DRAIN_AT_LEAST`
bytes), so that an ordinary client, which
writes its whole request before it reads, gets the 413 rather than a reset connection; a sender of
more than that is cut off. The answer is problem+json, or what the service's
`refusal` renders (intake answers Open311's own error document under `/open311/`).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_JSON


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def problem_too_large(path: str, limit: int) -> tuple[bytes, str]:
    """The refusal as problem+json (the body and its content type)."""
    detail = f"the request body is larger than {limit} bytes"
    body = {"type": "about:blank", "title": "Content too large", "status": 413, "detail": detail}
    return orjson.dumps(body), PROBLEM_JSON


Refusal = Callable[[str, int], tuple[bytes, str]]

DRAIN_FACTOR = 16
DRAIN_AT_LEAST = 8 << 20


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, refusal: Refusal = problem_too_large) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = refusal
        self.drain_limit = max(max_bytes * DRAIN_FACTOR, DRAIN_AT_LEAST)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        finished = False  # the client has sent its whole body
        if declared is not None and declared > self.max_bytes:
            if declared <= self.drain_limit:
                finished = await self._drain(receive, 0)
            await self._refuse(scope, send, keep_alive=finished)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            nonlocal finished
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                finished = not message.get("more_body", False)
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
            if not finished:
                finished = await self._drain(receive, received)
            await self._refuse(scope, send, keep_alive=finished)

    async def _drain(self, receive: Receive, already: int) -> bool:
        """Read and discard the rest of the body; True once it has all arrived, False when the client
        sends more than the drain limit or goes away."""
        total = already
        while total <= self.drain_limit:
            message = await receive()
            if message["type"] != "http.request":
                return False
            total += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
        return False

    async def _refuse(self, scope: Scope, send: Send, *, keep_alive: bool) -> None:
        body, content_type = self.refusal(scope.get("path", ""), self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    *([] if keep_alive else [(b"connection", b"close")]),
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
