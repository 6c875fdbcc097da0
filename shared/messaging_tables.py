"""The outbox and inbox tables every service keeps in its own schema, and the SQL over them.

**Outbox.** `Outbox.add` buffers an event in the caller's session; the buffered rows are written in
one statement just before that session commits (a `before_commit` hook), so they commit or roll
back with the state change. That statement first takes a transaction-level advisory lock on each
complaint id it writes for, in sorted order, and holds it until commit: two transactions writing
events of one complaint therefore draw their outbox ids in the order they commit, and a relay that
publishes unsent rows in id order publishes each complaint's events in commit order. After the
commit, the relay of this process is woken (`on_commit`). A hot path that writes its rows in a
statement of its own composes `outbox_insert` into it (the same rows, locks and encoding) and says
so with `rows_committed` once that statement has committed.

**Inbox.** A consumer records the `event_id`s of a batch in one statement in the transaction of
their effects; those it has seen before come back as already seen.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from shared.events import Envelope, Payload, envelope_for


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


PENDING_WHERE = "sent_at IS NULL AND failed_at IS NULL"


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
        Column("failed_at", DateTime(timezone=True)),  # set aside: it can never be published
        Column("error", Text),
        Index("ix_outbox_pending", "id", postgresql_where=text(PENDING_WHERE)),
        # BRIN: rows are sent in about the order they were written; summarising indexes cost next
        # to nothing on the hot path, and pruning only needs to find the old block ranges.
        Index("ix_outbox_sent_at", "sent_at", postgresql_using="brin"),
        Index("ix_outbox_set_aside", "id", postgresql_where=text("failed_at IS NOT NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_processed_at", "processed_at", postgresql_using="brin"),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)


# --- the outbox: buffered in the session, written just before commit -----------------------------

_PENDING = "whistle.outbox_pending"  # session.info: {table fullname: (table, [rows])}
_WAKE: dict[str, list[Callable[[], None]]] = {}  # table fullname -> called after a commit wrote rows


def on_commit(table: Table, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after any session of this process commits rows into this outbox table.

    Returns a function that removes the callback again."""
    _WAKE.setdefault(table.fullname, []).append(callback)
    return lambda: _WAKE.get(table.fullname, []).remove(callback)


def rows_committed(table: Table) -> None:
    """Rows were committed into this outbox table outside a session (a statement on a raw
    connection): call the `on_commit` callbacks, as a session's commit would have."""
    _notify(table.fullname)


def _notify(name: str) -> None:
    for callback in _WAKE.get(name, ()):
        callback()


@dataclass(frozen=True)
class OutboxRow:
    event_id: uuid.UUID
    topic: str
    key: str
    value: bytes
    headers: str  # JSON text


def outbox_row(envelope: Envelope, *, topic: str) -> OutboxRow:
    headers = orjson.dumps({"type": envelope.type, "version": str(envelope.version)}).decode()
    return OutboxRow(envelope.event_id, topic, envelope.correlation_id, envelope.to_bytes(), headers)


@dataclass(frozen=True)
class OutboxInsert:
    """The outbox part of a statement, to compose into a larger one.

    `locks` is a CTE (`outbox_locks`) taking the per-complaint advisory locks; `insert` is the INSERT
    that writes the rows once they are held, fit to be the body of a further CTE. `params` are the
    values of their parameters, numbered on from the `first` given to `outbox_insert`."""

    locks: str
    insert: str
    params: tuple[Any, ...]


def outbox_insert(
    table: Table, rows: Sequence[OutboxRow], *, first: int = 1, when: str | None = None
) -> OutboxInsert:
    """The SQL writing these rows (parameters `$first` … `$first+6`) and its parameters. `when` is
    an SQL condition the rows also wait on, e.g. that another CTE of the statement wrote its row."""
    locks, insert = _outbox_sql(table, first, when)
    return OutboxInsert(locks, insert, insert_params(table, rows))


@functools.lru_cache(maxsize=64)
def _outbox_sql(table: Table, first: int, when: str | None) -> tuple[str, str]:
    # The locks are taken (in the order given) before any row, and so any id, is made.
    # Parameters: the lock namespace, the keys to lock, then one array per column (`insert_params`).
    ns, keys, e, t, k, v, h = (f"${n}" for n in range(first, first + 7))
    locks = f"""outbox_locks AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended({ns} || k, 0)) FROM unnest({keys}::text[]) AS k
)"""
    also = f" AND ({when})" if when else ""
    insert = f"""INSERT INTO {table.fullname} (event_id, topic, key, value, headers)
SELECT e, t, k, v, h::jsonb
FROM unnest({e}::uuid[], {t}::text[], {k}::text[], {v}::bytea[], {h}::text[]) AS u(e, t, k, v, h)
WHERE (SELECT count(*) FROM outbox_locks) >= 0{also}"""
    return locks, insert


@functools.lru_cache(maxsize=16)
def _insert_sql(table: Table) -> str:
    locks, insert = _outbox_sql(table, 1, None)
    return f"WITH {locks}\n{insert}"


def insert_params(table: Table, rows: Sequence[OutboxRow]) -> tuple[Any, ...]:
    return (
        f"{table.fullname}:",
        sorted({r.key for r in rows}),
        [r.event_id for r in rows],
        [r.topic for r in rows],
        [r.key for r in rows],
        [r.value for r in rows],
        [r.headers for r in rows],
    )


def buffer_rows(session: AsyncSession | Session, table: Table, rows: Sequence[OutboxRow]) -> None:
    pending = session.info.setdefault(_PENDING, {})
    pending.setdefault(table.fullname, (table, []))[1].extend(rows)


@event.listens_for(Session, "before_commit")
def _write_buffered(session: Session) -> None:
    pending: dict[str, tuple[Table, list[OutboxRow]]] = session.info.get(_PENDING) or {}
    if not pending:
        return
    connection = session.connection()
    for table, rows in pending.values():
        if rows:
            connection.exec_driver_sql(_insert_sql(table), insert_params(table, rows))
    session.info["whistle.outbox_written"] = [name for name, (_, rows) in pending.items() if rows]
    pending.clear()


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    for name in session.info.pop("whistle.outbox_written", ()):
        _notify(name)


@event.listens_for(Session, "after_rollback")
def _forget_buffered(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop("whistle.outbox_written", None)


async def write_rows(connection: AsyncConnection, table: Table, rows: Sequence[OutboxRow]) -> None:
    """Write outbox rows on a connection whose transaction the caller commits (no session)."""
    if rows:
        await connection.exec_driver_sql(_insert_sql(table), insert_params(table, rows))


class Outbox:
    """Writes events in the caller's transaction; the relay publishes them after commit."""

    def __init__(self, table: Table, *, producer: str) -> None:
        self.table = table
        self.producer = producer

    def envelope(self, payload: Payload, *, correlation_id: str) -> Envelope:
        """The envelope `add` writes for this payload."""
        return envelope_for(payload, producer=self.producer, correlation_id=correlation_id)

    async def add(
        self, session: AsyncSession, payload: Payload, *, correlation_id: str, topic: str | None = None
    ) -> Envelope:
        """Write the event in the caller's transaction, keyed by the correlation (complaint) id."""
        envelope = self.envelope(payload, correlation_id=correlation_id)
        buffer_rows(session, self.table, [outbox_row(envelope, topic=topic or payload.TOPIC)])
        return envelope

    async def backlog(self, session: AsyncSession) -> int:
        result = await session.execute(
            text(f"SELECT count(*) FROM {self.table.fullname} WHERE {PENDING_WHERE}")
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


# --- the inbox ------------------------------------------------------------------------------------


def _inbox_sql(table: Table) -> str:
    return f"""
INSERT INTO {table.fullname} (consumer, event_id, event_type)
SELECT $1, e, t FROM unnest($2::uuid[], $3::text[]) AS u(e, t)
ON CONFLICT DO NOTHING
RETURNING event_id"""


async def first_seen(
    session: AsyncSession, table: Table, *, consumer: str, events: Sequence[tuple[uuid.UUID, str]]
) -> set[uuid.UUID]:
    """Record the events (id, type) in the inbox; returns the ids this consumer had not seen."""
    if not events:
        return set()
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        _inbox_sql(table), (consumer, [e for e, _ in events], [t for _, t in events])
    )
    return {row[0] for row in result}


async def first_time_seen(
    session: AsyncSession, table: Table, *, consumer: str, event_id: uuid.UUID, event_type: str
) -> bool:
    """Record one event in the inbox; False when this consumer has processed it before."""
    return bool(await first_seen(session, table, consumer=consumer, events=[(event_id, event_type)]))
