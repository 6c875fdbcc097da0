"""Department work: claims with leases, report-in, returns, extension requests, escalation steps,
street whistles, idempotent replies and the audit log.

Revision ID: 5e7a3c9d2b14
Revises: 8c2f6e1b9d35
Create Date: 2026-12-02 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import create_audit_log, drop_audit_log

# revision identifiers, used by Alembic.
revision: str = "5e7a3c9d2b14"
down_revision: str | Sequence[str] | None = "8c2f6e1b9d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "dispatch"
OPEN = "status IN ('queued', 'signed_off', 'reported_in')"
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_audit_log(S)
    _whistles_up()
    _assignments_up()
    _extension_requests_up()
    _escalation_steps_up()
    op.create_table(
        "action_replies",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "key", name=op.f("pk_action_replies")),
        schema=S,
    )
    op.create_index(op.f("ix_dispatch_action_replies_created_at"), "action_replies", ["created_at"], schema=S)
    op.add_column(
        "refused_pushdowns",
        sa.Column("kind", sa.String(16), server_default="pushdown", nullable=False),
        schema=S,
    )
    op.add_column("refused_pushdowns", sa.Column("client_id", sa.String(100), nullable=True), schema=S)
    op.alter_column("refused_pushdowns", "complaint_id", nullable=True, schema=S)


def _whistles_up() -> None:
    for column in (
        sa.Column("kind", sa.String(24), server_default="department", nullable=False),
        sa.Column("visit_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("parent_whistle_id", sa.String(36), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("blown_by", sa.String(100), nullable=True),
    ):
        op.add_column("whistles", column, schema=S)
    op.create_index("ix_whistles_street_issued", "whistles", ["street_code", "issued_at", "id"], schema=S)
    op.create_index("ix_whistles_district_issued", "whistles", ["district_code", "issued_at", "id"], schema=S)


def _assignments_up() -> None:
    for column in (
        sa.Column("contacted_at", TIME, nullable=True),
        sa.Column("on_site_at", TIME, nullable=True),
        sa.Column("report_in_note", sa.Text(), nullable=True),
        sa.Column("returned_at", TIME, nullable=True),
        sa.Column("return_reason", sa.String(32), nullable=True),
        sa.Column("return_note", sa.Text(), nullable=True),
        sa.Column("closed_at", TIME, nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", TIME, nullable=True),
        sa.Column("lease_seconds", sa.Integer(), nullable=True),
    ):
        op.add_column("assignments", column, schema=S)
    op.drop_index("ix_dispatch_assignments_department_code", table_name="assignments", schema=S)
    op.drop_index("ix_dispatch_assignments_status", table_name="assignments", schema=S)
    op.drop_index("ix_dispatch_assignments_unit_code", table_name="assignments", schema=S)
    op.create_index(op.f("ix_dispatch_assignments_complaint_id"), "assignments", ["complaint_id"], schema=S)
    op.create_index(
        "ix_assignments_department_queue", "assignments", ["department_code", "queued_at", "id"], schema=S
    )
    op.create_index("ix_assignments_unit_queue", "assignments", ["unit_code", "queued_at", "id"], schema=S)
    op.create_index(
        "ix_assignments_claimable",
        "assignments",
        ["department_code", "queued_at", "id"],
        schema=S,
        postgresql_where=sa.text(f"{OPEN} AND lease_expires_at IS NULL"),
    )
    op.create_index(
        "ix_assignments_leased",
        "assignments",
        ["department_code", "lease_expires_at"],
        schema=S,
        postgresql_where=sa.text("lease_expires_at IS NOT NULL"),
    )


def _extension_requests_up() -> None:
    op.create_table(
        "extension_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("assignment_id", sa.String(36), nullable=False),
        sa.Column("whistle_id", sa.String(36), nullable=False),
        sa.Column("complaint_id", sa.String(36), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=True),
        sa.Column("street_code", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=True),
        sa.Column("until", TIME, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", TIME, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["dispatch.assignments.id"],
            name=op.f("fk_extension_requests_assignment_id_assignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_requests")),
        schema=S,
    )
    op.create_index(
        op.f("ix_dispatch_extension_requests_assignment_id"),
        "extension_requests",
        ["assignment_id"],
        schema=S,
    )
    op.create_index(
        "uq_extension_requests_one_pending",
        "extension_requests",
        ["assignment_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_extension_requests_district_status",
        "extension_requests",
        ["district_code", "status", "requested_at"],
        schema=S,
    )
    op.create_index(
        "ix_extension_requests_street_status",
        "extension_requests",
        ["street_code", "status", "requested_at"],
        schema=S,
    )


def _escalation_steps_up() -> None:
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("whistle_id", sa.String(36), nullable=False),
        sa.Column("complaint_id", sa.String(36), nullable=False),
        sa.Column("assignment_id", sa.String(36), nullable=True),
        sa.Column("clock_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("cause", sa.String(8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(64), nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("fired_at", TIME, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_steps")),
        sa.UniqueConstraint(
            "clock_id", "cause", "position", name=op.f("uq_escalation_steps_clock_id_cause_position")
        ),
        schema=S,
    )
    op.create_index(
        op.f("ix_dispatch_escalation_steps_whistle_id"), "escalation_steps", ["whistle_id"], schema=S
    )
    op.create_index(
        "ix_escalation_steps_due",
        "escalation_steps",
        ["due_at"],
        schema=S,
        postgresql_where=sa.text("fired_at IS NULL"),
    )
    op.create_index(
        "ix_escalation_steps_district",
        "escalation_steps",
        ["district_code", "fired_at"],
        schema=S,
        postgresql_where=sa.text("action = 'district' AND outcome = 'fired'"),
    )


def downgrade() -> None:
    op.execute(f"DELETE FROM {S}.refused_pushdowns WHERE complaint_id IS NULL")
    op.alter_column("refused_pushdowns", "complaint_id", nullable=False, schema=S)
    op.drop_column("refused_pushdowns", "client_id", schema=S)
    op.drop_column("refused_pushdowns", "kind", schema=S)
    op.drop_index(op.f("ix_dispatch_action_replies_created_at"), table_name="action_replies", schema=S)
    op.drop_table("action_replies", schema=S)
    op.drop_table("escalation_steps", schema=S)
    op.drop_table("extension_requests", schema=S)
    for index in (
        "ix_assignments_leased",
        "ix_assignments_claimable",
        "ix_assignments_unit_queue",
        "ix_assignments_department_queue",
        "ix_dispatch_assignments_complaint_id",
    ):
        op.drop_index(index, table_name="assignments", schema=S)
    op.create_index("ix_dispatch_assignments_unit_code", "assignments", ["unit_code"], schema=S)
    op.create_index("ix_dispatch_assignments_status", "assignments", ["status"], schema=S)
    op.create_index("ix_dispatch_assignments_department_code", "assignments", ["department_code"], schema=S)
    for column in (
        "lease_seconds",
        "lease_expires_at",
        "worker",
        "closed_at",
        "return_note",
        "return_reason",
        "returned_at",
        "report_in_note",
        "on_site_at",
        "contacted_at",
    ):
        op.drop_column("assignments", column, schema=S)
    op.drop_index("ix_whistles_district_issued", table_name="whistles", schema=S)
    op.drop_index("ix_whistles_street_issued", table_name="whistles", schema=S)
    for column in (
        "blown_by",
        "reason",
        "location",
        "description",
        "parent_whistle_id",
        "visit_required",
        "kind",
    ):
        op.drop_column("whistles", column, schema=S)
    drop_audit_log(S)
