"""Outbox rows set aside when they can never be published; indexes for pruning sent and old rows.

Revision ID: 8c2f6e1b9d35
Revises: aeb4e9da52bc
Create Date: 2026-12-01 12:00:00.000000

"""

from collections.abc import Sequence

from shared.migrations import downgrade_messaging_set_aside, upgrade_messaging_set_aside

# revision identifiers, used by Alembic.
revision: str = "8c2f6e1b9d35"
down_revision: str | Sequence[str] | None = "aeb4e9da52bc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_messaging_set_aside("dispatch")


def downgrade() -> None:
    downgrade_messaging_set_aside("dispatch")
