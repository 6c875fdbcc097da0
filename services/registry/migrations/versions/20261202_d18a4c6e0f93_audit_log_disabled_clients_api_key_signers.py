"""The audit log; clients can be disabled; each api key remembers the key that signed it.

Revision ID: d18a4c6e0f93
Revises: c7e2a91d4b58
Create Date: 2026-12-02 00:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_audit_log, drop_audit_log

# revision identifiers, used by Alembic.
revision: str = "d18a4c6e0f93"
down_revision: str | Sequence[str] | None = "c7e2a91d4b58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_log("registry")
    op.add_column("clients", sa.Column("disabled_at", sa.DateTime(timezone=True)), schema="registry")
    op.add_column("api_keys", sa.Column("signing_kid", sa.String(length=32)), schema="registry")


def downgrade() -> None:
    op.drop_column("api_keys", "signing_kid", schema="registry")
    op.drop_column("clients", "disabled_at", schema="registry")
    drop_audit_log("registry")
