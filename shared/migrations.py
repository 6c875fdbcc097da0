"""One Alembic history per service, each in its own schema (and its own version table there).

A service's `migrations/env.py` is two lines: import its metadata, call `run_env(metadata)`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from shared.db import create_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
SERVICES = ("registry", "intake", "dispatch", "sla")


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.attributes["database_url"] = database_url
    cfg.attributes["schema"] = service
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Apply a service's migrations (blocking; call in a thread from async code)."""
    command.upgrade(alembic_config(service, database_url), revision)


async def upgrade_all(database_url: str, services: tuple[str, ...] = SERVICES) -> None:
    for service in services:
        await asyncio.to_thread(upgrade, service, database_url)


def run_env(metadata: MetaData) -> None:
    """The body of every service's env.py (online mode only)."""
    cfg = context.config
    url: str = cfg.attributes["database_url"]
    schema: str = cfg.attributes["schema"]

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, type_, _parents: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            # Serialise concurrent upgrades of the same service (several replicas starting at once).
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": schema})
            context.run_migrations()

    async def main() -> None:
        engine = create_engine(url, pool_size=1)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


# --- steps every service's history takes for the messaging tables --------------------------------


def upgrade_messaging_set_aside(schema: str) -> None:
    """Outbox rows can be set aside (`failed_at`, `error`); sent outbox and old inbox rows indexed
    for pruning (BRIN: next to free to keep up)."""
    import sqlalchemy as sa
    from alembic import op

    op.add_column("outbox", sa.Column("failed_at", sa.DateTime(timezone=True)), schema=schema)
    op.add_column("outbox", sa.Column("error", sa.Text()), schema=schema)
    op.drop_index("ix_outbox_pending", table_name="outbox", schema=schema)
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"], schema=schema, postgresql_using="brin")
    op.create_index(
        "ix_outbox_set_aside",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("failed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_inbox_processed_at", "inbox", ["processed_at"], schema=schema, postgresql_using="brin"
    )


def downgrade_messaging_set_aside(schema: str) -> None:
    import sqlalchemy as sa
    from alembic import op

    op.drop_index("ix_inbox_processed_at", table_name="inbox", schema=schema)
    op.drop_index("ix_outbox_set_aside", table_name="outbox", schema=schema)
    op.drop_index("ix_outbox_sent_at", table_name="outbox", schema=schema)
    op.drop_index("ix_outbox_pending", table_name="outbox", schema=schema)
    op.create_index(
        "ix_outbox_pending", "outbox", ["id"], schema=schema, postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_column("outbox", "error", schema=schema)
    op.drop_column("outbox", "failed_at", schema=schema)


def create_audit_log(schema: str) -> None:
    """The service's audit log (`shared.audit`)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("client_kind", sa.String(length=16), server_default="", nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema=schema,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], schema=schema)
    op.create_index("ix_audit_log_client_id", "audit_log", ["client_id"], schema=schema)


def drop_audit_log(schema: str) -> None:
    from alembic import op

    op.drop_index("ix_audit_log_client_id", table_name="audit_log", schema=schema)
    op.drop_index("ix_audit_log_at", table_name="audit_log", schema=schema)
    op.drop_table("audit_log", schema=schema)
