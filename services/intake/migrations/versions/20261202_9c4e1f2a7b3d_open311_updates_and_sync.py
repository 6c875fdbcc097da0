"""Open311 updates both ways and searches a sync can follow: each timeline entry's kind (and
result) and when intake recorded it; when a complaint last changed and whether a resident asked for
a follow-up; residents' own updates.

Revision ID: 9c4e1f2a7b3d
Revises: 5b8e0d4c1a72
Create Date: 2026-12-02 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9c4e1f2a7b3d"
down_revision: str | Sequence[str] | None = "5b8e0d4c1a72"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOCK = sa.text("clock_timestamp()")

# The kind of an entry stored before kinds existed, from the status it recorded (status.py's
# KIND_OF_STATUS); merges and undone merges are told apart by the merge rows and the note.
BACKFILL_KINDS = """
UPDATE intake.status_changes SET kind = CASE status
    WHEN 'received' THEN 'filed' WHEN 'in_progress' THEN 'signed_off' ELSE status END;
UPDATE intake.status_changes AS sc SET kind = 'merged'
    FROM intake.merges AS m WHERE sc.complaint_id = m.complaint_id AND sc.at = m.merged_at;
UPDATE intake.status_changes SET kind = 'unmerged'
    WHERE kind = 'filed' AND note LIKE '%单独派办%';
UPDATE intake.status_changes SET recorded_at = at;
UPDATE intake.complaints SET recorded_at = updated_at;
"""


def upgrade() -> None:
    op.add_column("status_changes", sa.Column("kind", sa.String(length=32), nullable=True), schema="intake")
    op.add_column("status_changes", sa.Column("result", sa.String(length=32), nullable=True), schema="intake")
    op.add_column(
        "status_changes",
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=CLOCK, nullable=False),
        schema="intake",
    )
    op.add_column(
        "complaints",
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=CLOCK, nullable=False),
        schema="intake",
    )
    op.add_column(
        "complaints",
        sa.Column("followup_requested_at", sa.DateTime(timezone=True), nullable=True),
        schema="intake",
    )
    for statement in BACKFILL_KINDS.split(";"):
        if statement.strip():
            op.execute(statement)
    op.alter_column("status_changes", "kind", nullable=False, schema="intake")
    op.create_index(
        "ix_status_changes_recorded_at_id",
        "status_changes",
        ["recorded_at", "id"],
        unique=False,
        schema="intake",
    )
    op.create_index(
        "ix_complaints_recorded_at_id", "complaints", ["recorded_at", "id"], unique=False, schema="intake"
    )
    op.create_index(
        "ix_complaints_followup_requested",
        "complaints",
        ["created_at"],
        unique=False,
        schema="intake",
        postgresql_where=sa.text("followup_requested_at IS NOT NULL"),
    )
    op.create_table(
        "resident_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("client_update_id", sa.String(length=128), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("status_sent", sa.String(length=64), nullable=False),
        sa.Column("says", sa.String(length=16), nullable=False),
        sa.Column("followup_requested", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("updated_datetime", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=CLOCK, nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["intake.complaints.id"],
            name=op.f("fk_resident_updates_complaint_id_complaints"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["intake.status_changes.id"],
            name=op.f("fk_resident_updates_entry_id_status_changes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_updates")),
        sa.UniqueConstraint(
            "client_id", "client_update_id", name=op.f("uq_resident_updates_client_id_client_update_id")
        ),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_resident_updates_complaint_id"),
        "resident_updates",
        ["complaint_id"],
        unique=False,
        schema="intake",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_intake_resident_updates_complaint_id"), table_name="resident_updates", schema="intake"
    )
    op.drop_table("resident_updates", schema="intake")
    op.drop_index("ix_complaints_followup_requested", table_name="complaints", schema="intake")
    op.drop_index("ix_complaints_recorded_at_id", table_name="complaints", schema="intake")
    op.drop_index("ix_status_changes_recorded_at_id", table_name="status_changes", schema="intake")
    op.drop_column("complaints", "followup_requested_at", schema="intake")
    op.drop_column("complaints", "recorded_at", schema="intake")
    op.drop_column("status_changes", "recorded_at", schema="intake")
    op.drop_column("status_changes", "result", schema="intake")
    op.drop_column("status_changes", "kind", schema="intake")
