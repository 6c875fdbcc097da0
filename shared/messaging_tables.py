"""The outbox and inbox tables every service keeps in its own schema, and the SQL over them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope, Payload, envelope_for


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Declare `outbox` and `inbox` in the metadata's schema."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True)),
        Index("ix_outbox_pending", "id", postgresql_where=text("sent_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)


OUTBOX_WRITTEN = "outbox_written"  # set in session.info when a unit of work wrote events


class Outbox:
    """Writes events in the caller's transaction; the relay publishes them after commit."""

    def __init__(self, table: Table, *, producer: str) -> None:
        self.table = table
        self.producer = producer

    async def add(
        self, session: AsyncSession, payload: Payload, *, correlation_id: str, topic: str | None = None
    ) -> Envelope:
        """Write the event in the caller's transaction, keyed by the correlation (complaint) id."""
        envelope = envelope_for(payload, producer=self.producer, correlation_id=correlation_id)
        session.info[OUTBOX_WRITTEN] = True
        await session.execute(
            self.table.insert().values(
                event_id=envelope.event_id,
                topic=topic or payload.TOPIC,
                key=correlation_id,
                value=envelope.to_bytes(),
                headers={"type": envelope.type, "version": str(envelope.version)},
            )
        )
        return envelope

    async def backlog(self, session: AsyncSession) -> int:
        result = await session.execute(
            select(func.count()).select_from(self.table).where(self.table.c.sent_at.is_(None))
        )
        return int(result.scalar_one())


@dataclass(frozen=True)
class PendingMessage:
    row_id: int
    event_id: uuid.UUID
    topic: str
    key: str
    value: bytes
    headers: dict[str, str]
    created_at: datetime


async def claim_pending(session: AsyncSession, table: Table, limit: int) -> list[PendingMessage]:
    """Lock the oldest unsent rows; rows another relay holds are skipped, not waited for."""
    rows = await session.execute(
        select(
            table.c.id,
            table.c.event_id,
            table.c.topic,
            table.c.key,
            table.c.value,
            table.c.headers,
            table.c.created_at,
        )
        .where(table.c.sent_at.is_(None))
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [PendingMessage(*row) for row in rows]


async def mark_sent(session: AsyncSession, table: Table, row_ids: list[int]) -> None:
    await session.execute(update(table).where(table.c.id.in_(row_ids)).values(sent_at=func.now()))


async def first_time_seen(
    session: AsyncSession, table: Table, *, consumer: str, event_id: uuid.UUID, event_type: str
) -> bool:
    """Record the event in the inbox; False when this consumer has processed it before."""
    result = await session.execute(
        insert(table)
        .values(consumer=consumer, event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing()
        .returning(table.c.event_id)
    )
    return result.first() is not None
