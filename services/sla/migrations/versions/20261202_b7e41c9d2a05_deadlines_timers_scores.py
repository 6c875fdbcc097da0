"""Clocks for every stage with their timers, the rounds SLA follows, what each case counted for,
the streets' evaluations, closed periods with their published scores, and the audit log.

The clocks table is made anew (a clock is now named by a stable id, with its warning and breach
instants); clocks are derived from the topics, so `whistle sla rebuild` fills it again.

Revision ID: b7e41c9d2a05
Revises: a4d7b3e9c261
Create Date: 2026-12-02 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import create_audit_log, drop_audit_log

# revision identifiers, used by Alembic.
revision: str = "b7e41c9d2a05"
down_revision: str | Sequence[str] | None = "a4d7b3e9c261"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sla"


def _code(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=64), nullable=nullable)


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    _drop_old_clocks()
    op.create_table(
        "clocks",
        _id("clock_id"),
        _id("complaint_id"),
        _id("whistle_id"),
        _id("assignment_id", True),
        _code("unit_code"),
        _code("department_code", True),
        _code("owner_street", True),
        _code("street_code"),
        _code("district_code"),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        _at("started_at"),
        _at("due_at"),
        _at("warn_at"),
        _at("warned_at", True),
        _at("breached_at", True),
        _at("stopped_at", True),
        sa.Column("extension_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("clock_id", name=op.f("pk_clocks")),
        schema=SCHEMA,
    )
    for column in ("complaint_id", "whistle_id", "assignment_id"):
        op.create_index(op.f(f"ix_sla_clocks_{column}"), "clocks", [column], schema=SCHEMA)
    op.create_table(
        "timers",
        _id("clock_id"),
        sa.Column("kind", sa.String(length=8), nullable=False),
        _at("fire_at"),
        sa.PrimaryKeyConstraint("clock_id", "kind", name=op.f("pk_timers")),
        schema=SCHEMA,
    )
    op.create_index("ix_timers_fire_at", "timers", ["fire_at"], schema=SCHEMA)
    op.create_table(
        "whistles",
        _id("whistle_id"),
        _id("complaint_id"),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        _code("category"),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        _code("street_code"),
        _code("district_code"),
        sa.Column("visit_required", sa.Boolean(), nullable=False),
        _at("issued_at"),
        _code("answering_unit", True),
        _code("answering_department", True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _id("merged_into", True),
        sa.PrimaryKeyConstraint("whistle_id", name=op.f("pk_whistles")),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_sla_whistles_complaint_id"), "whistles", ["complaint_id"], schema=SCHEMA)
    op.create_table(
        "complaint_facts",
        _id("complaint_id"),
        _id("merged_into", True),
        _at("merged_at", True),
        _at("closed_at", True),
        sa.Column("feedback", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaint_facts")),
        schema=SCHEMA,
    )
    _create_measures()
    _create_evaluations_and_periods()
    create_audit_log(SCHEMA)


def _create_measures() -> None:
    op.create_table(
        "measures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        _at("at"),
        _code("unit_code"),
        _code("department_code", True),
        _code("owner_street", True),
        _code("street_code"),
        _code("district_code"),
        _id("complaint_id"),
        _id("whistle_id"),
        _id("assignment_id", True),
        _id("clock_id", True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_measures")),
        schema=SCHEMA,
    )
    op.create_index("ix_measures_at_measure", "measures", ["at", "measure"], schema=SCHEMA)
    op.create_index("ix_measures_department_code_at", "measures", ["department_code", "at"], schema=SCHEMA)
    op.create_index("ix_measures_owner_street_at", "measures", ["owner_street", "at"], schema=SCHEMA)
    op.create_index("ix_measures_unit_code_at", "measures", ["unit_code", "at"], schema=SCHEMA)
    op.create_index(op.f("ix_sla_measures_complaint_id"), "measures", ["complaint_id"], schema=SCHEMA)


def _create_evaluations_and_periods() -> None:
    now = sa.text("now()")
    op.create_table(
        "evaluations",
        sa.Column("period", sa.String(length=7), nullable=False),
        _code("street_code"),
        _code("unit_code"),
        _code("department_code", True),
        _code("district_code"),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("evaluated_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.PrimaryKeyConstraint("period", "street_code", "unit_code", name=op.f("pk_evaluations")),
        schema=SCHEMA,
    )
    op.create_index("ix_evaluations_period_unit_code", "evaluations", ["period", "unit_code"], schema=SCHEMA)
    op.create_table(
        "periods",
        sa.Column("period", sa.String(length=7), nullable=False),
        _at("closed_at"),
        sa.Column("closed_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_periods")),
        schema=SCHEMA,
    )
    op.create_table(
        "published_scores",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        _code("unit_code"),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("band", sa.Integer(), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("row", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("period", "level", "unit_code", name=op.f("pk_published_scores")),
        schema=SCHEMA,
    )


def _drop_old_clocks() -> None:
    for column in ("status", "due_at", "complaint_id"):
        op.drop_index(op.f(f"ix_sla_clocks_{column}"), table_name="clocks", schema=SCHEMA)
    op.drop_table("clocks", schema=SCHEMA)


def downgrade() -> None:
    drop_audit_log(SCHEMA)
    tables = ("published_scores", "periods", "evaluations", "measures", "complaint_facts", "whistles")
    for table in (*tables, "timers", "clocks"):
        op.drop_table(table, schema=SCHEMA)  # their indexes go with them
    op.create_table(
        "clocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _id("complaint_id"),
        _id("whistle_id"),
        _id("assignment_id", True),
        _code("unit_code"),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("started_at"),
        _at("due_at"),
        _at("stopped_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clocks")),
        sa.UniqueConstraint(
            "whistle_id", "stage", "unit_code", name=op.f("uq_clocks_whistle_id_stage_unit_code")
        ),
        schema=SCHEMA,
    )
    for column in ("complaint_id", "due_at", "status"):
        op.create_index(op.f(f"ix_sla_clocks_{column}"), "clocks", [column], schema=SCHEMA)
