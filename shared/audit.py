"""The audit log each service keeps in its own schema: who did (or was refused) what, and when.

Admin writes, key rotations, api-key issue and revocation, client changes, and every refused
attempt (403) are written here: `record` in the caller's transaction for what a request changes, and
`record_refusal` in a transaction of its own for a refusal (the request's own transaction rolls
back). Never a resident's data: the subject is a code or an id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.access import Principal
from shared.logging import get_logger

log = get_logger(__name__)


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("client_id", String(100), nullable=False),
        Column("client_kind", String(16), nullable=False, server_default=""),
        Column("action", String(200), nullable=False),
        Column("subject", String(200), nullable=False, server_default=""),
        Column("outcome", String(16), nullable=False),
        Column("detail", Text, nullable=False, server_default=""),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_client_id", "client_id"),
    )


async def record(
    session: AsyncSession,
    table: Table,
    principal: Principal | None,
    *,
    action: str,
    subject: str = "",
    outcome: str = "done",
    detail: str = "",
) -> None:
    """Audit an action in the caller's transaction (it commits with what the action changed)."""
    await session.execute(
        insert(table).values(
            client_id=principal.client_id if principal else "anonymous",
            client_kind=principal.kind if principal else "",
            action=action[:200],
            subject=subject[:200],
            outcome=outcome,
            detail=detail[:2000],
        )
    )


async def record_refusal(
    sessions: async_sessionmaker[AsyncSession],
    table: Table,
    principal: Principal | None,
    *,
    action: str,
    detail: str,
) -> None:
    """Audit a refused attempt in a transaction of its own; a failure to audit is logged, not raised."""
    try:
        async with sessions() as session, session.begin():
            await record(session, table, principal, action=action, outcome="refused", detail=detail)
    except Exception as exc:
        log.warning("audit.refusal_not_recorded", action=action, error=repr(exc)[:200])


async def entries(
    session: AsyncSession,
    table: Table,
    *,
    since: datetime | None = None,
    client_id: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages back."""
    query = select(table).order_by(table.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(table.c.at >= since)
    if client_id is not None:
        query = query.where(table.c.client_id == client_id)
    if outcome is not None:
        query = query.where(table.c.outcome == outcome)
    if before_id is not None:
        query = query.where(table.c.id < before_id)
    return [dict(row._mapping) for row in await session.execute(query)]
