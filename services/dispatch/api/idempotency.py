"""Writes retried with an `Idempotency-Key` get the first answer again (not a 409 for a state the
first attempt already reached). The key is the client's; its reply is kept with a fingerprint of
the request, and a key reused for a different request is refused (422)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.repository import replies
from shared.errors import Unprocessable

MAX_KEY_LENGTH = 200


def fingerprint(route: str, subject: str, body: Any) -> str:
    raw = orjson.dumps([route, subject, body], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(raw).hexdigest()


async def once(
    session: AsyncSession,
    *,
    client_id: str,
    key: str | None,
    fingerprint: str,
    status_code: int,
    run: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """Run the write, or answer what it answered the first time this key was used."""
    if key is not None:
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise Unprocessable(
                "Idempotency-Key is not valid.",
                errors=[{"field": "header.Idempotency-Key", "message": f"1 to {MAX_KEY_LENGTH} characters"}],
            )
        kept = await replies.take_key(session, client_id=client_id, key=key, fingerprint=fingerprint)
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was used for a different request.",
                    errors=[
                        {"field": "header.Idempotency-Key", "message": "already used for another request"}
                    ],
                )
            return _json(kept.body or "null", kept.status_code or status_code)
    body = (await run()).model_dump_json()
    if key is not None:
        await replies.keep_reply(session, client_id=client_id, key=key, status_code=status_code, body=body)
    return _json(body, status_code)


def _json(body: str, status_code: int) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")
