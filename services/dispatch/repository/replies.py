"""Answers kept for writes sent with an `Idempotency-Key`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.models import ActionReply


async def take_key(
    session: AsyncSession, *, client_id: str, key: str, fingerprint: str
) -> ActionReply | None:
    """Reserve the key for this request, or return the reply a request with it already committed.

    The reservation is a row written in the request's transaction: a concurrent retry with the same
    key waits on it and, once the first commits, finds its reply (or, if the first rolled back,
    reserves the key itself)."""
    reserved = await session.execute(
        insert(ActionReply)
        .values(client_id=client_id, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing(index_elements=["client_id", "key"])
        .returning(ActionReply.key)
    )
    if reserved.first() is not None:
        return None
    query = select(ActionReply).where(ActionReply.client_id == client_id, ActionReply.key == key)
    return (await session.execute(query)).scalar_one()


async def keep_reply(session: AsyncSession, *, client_id: str, key: str, status_code: int, body: str) -> None:
    await session.execute(
        update(ActionReply)
        .where(ActionReply.client_id == client_id, ActionReply.key == key)
        .values(status_code=status_code, body=body)
    )


async def prune(session: AsyncSession, *, before: datetime, limit: int = 5000) -> int:
    """Forget replies older than `before`, a batch at a time."""
    old = select(ActionReply.client_id, ActionReply.key).where(ActionReply.created_at < before).limit(limit)
    result = await session.execute(
        delete(ActionReply).where(tuple_(ActionReply.client_id, ActionReply.key).in_(old))
    )
    return int(getattr(result, "rowcount", 0) or 0)
