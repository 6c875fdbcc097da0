"""Async SQLAlchemy 2 over asyncpg: one engine per service, sessions committed at the boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData
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
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"server_settings": server_settings} if server_settings else {},
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session
