"""Async SQLAlchemy 2 over asyncpg: one engine per service, sessions committed at the boundary."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def schema_metadata(schema: str) -> MetaData:
    """The metadata of a service's declarative base: every table in the service's own schema."""
    return MetaData(schema=schema, naming_convention=NAMING)


def asyncpg_url(url: str) -> str:
    """Accept plain `postgresql://` URLs too."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 0,
    idle_in_transaction_timeout_ms: int = 0,
) -> AsyncEngine:
    """An engine whose sessions the server ends when a statement or an idle transaction outlives its
    timeout (0: no limit), and whose errors never show bound parameters (residents' data)."""
    server_settings = {}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    if idle_in_transaction_timeout_ms:
        server_settings["idle_in_transaction_session_timeout"] = str(idle_in_transaction_timeout_ms)
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        hide_parameters=True,
        connect_args={"server_settings": server_settings} if server_settings else {},
    )
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine, seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle a while (a busy connection is
    known to work; pinging at every checkout would cost a round trip per transaction). A connection
    found dead is replaced; one that dies in use fails that unit of work, whose caller retries (a
    consumer) or answers 503 (a request), and SQLAlchemy then recycles the rest of the pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since > seconds:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError("a pooled connection was dead") from exc


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def raw_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection's asyncpg connection, for hot paths that skip SQLAlchemy's statement layer.

    SQLAlchemy does not see errors raised on it, so one that says the connection itself is gone
    invalidates it here: the pool must not hand a dead connection out again."""
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        try:
            yield raw
        except BaseException as exc:
            if _connection_gone(exc) or raw is None or raw.is_closed():
                await connection.invalidate(exc if isinstance(exc, Exception) else None)
            raise


def _connection_gone(error: BaseException) -> bool:
    import asyncpg

    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | OSError):
        return True
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and (state.startswith("08") or state.startswith("57P"))


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session
