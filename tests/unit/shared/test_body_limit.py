"""The body limit: oversized bodies are refused whether or not they declare their length, and a
body within the limit reaches the app whole."""

from __future__ import annotations

from typing import Any

import orjson

from shared.body_limit import BodyLimit


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/v1/x", "headers": headers}


async def _call(limit: int, chunks: list[bytes], declared: int | None) -> tuple[list[dict[str, Any]], bytes]:
    seen = bytearray()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [] if declared is None else [(b"content-length", str(declared).encode())]
    await BodyLimit(app, max_bytes=limit)(_scope(headers), receive, send)
    return sent, bytes(seen)


async def test_a_declared_oversized_body_never_reaches_the_app() -> None:
    sent, seen = await _call(1024, [b"x" * 2000], declared=2000)
    assert sent[0]["status"] == 413
    assert seen == b""
    assert orjson.loads(sent[1]["body"])["status"] == 413


async def test_a_streamed_body_is_cut_off_at_the_limit() -> None:
    sent, _ = await _call(1024, [b"x" * 600, b"x" * 600, b"x" * 600], declared=None)
    assert sent[0]["status"] == 413
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/problem+json"


async def test_a_body_within_the_limit_arrives_whole() -> None:
    sent, seen = await _call(1024, [b"a" * 500, b"b" * 524], declared=1024)
    assert sent[0]["status"] == 200
    assert seen == b"a" * 500 + b"b" * 524


async def test_a_sender_far_over_the_limit_is_cut_off_without_keep_alive() -> None:
    sent, _ = await _call(1024, [b"x" * (1 << 20)] * 9, declared=9 << 20)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
