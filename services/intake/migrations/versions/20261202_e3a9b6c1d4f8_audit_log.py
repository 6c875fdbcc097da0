"""Intake's audit log: refused requests (403), who, what, when.

Revision ID: e3a9b6c1d4f8
Revises: 9c4e1f2a7b3d
Create Date: 2026-12-02 12:00:00.000000

"""

from collections.abc import Sequence

from shared.migrations import create_audit_log, drop_audit_log

# revision identifiers, used by Alembic.
revision: str = "e3a9b6c1d4f8"
down_revision: str | Sequence[str] | None = "9c4e1f2a7b3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_log("intake")


def downgrade() -> None:
    drop_audit_log("intake")
