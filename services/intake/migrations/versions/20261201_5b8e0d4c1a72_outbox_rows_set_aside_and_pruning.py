"""Outbox rows set aside when they can never be published; indexes for pruning sent and old rows.

Revision ID: 5b8e0d4c1a72
Revises: 63da1b559c6e
Create Date: 2026-12-01 12:00:00.000000

"""

from collections.abc import Sequence

from shared.migrations import downgrade_messaging_set_aside, upgrade_messaging_set_aside

# revision identifiers, used by Alembic.
revision: str = "5b8e0d4c1a72"
down_revision: str | Sequence[str] | None = "63da1b559c6e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_messaging_set_aside("intake")


def downgrade() -> None:
    downgrade_messaging_set_aside("intake")
