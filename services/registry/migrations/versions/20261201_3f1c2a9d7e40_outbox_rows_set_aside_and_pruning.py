"""Outbox rows set aside when they can never be published; indexes for pruning sent and old rows.

Revision ID: 3f1c2a9d7e40
Revises: 24ceb76b3ca6
Create Date: 2026-12-01 12:00:00.000000

"""

from collections.abc import Sequence

from shared.migrations import downgrade_messaging_set_aside, upgrade_messaging_set_aside

# revision identifiers, used by Alembic.
revision: str = "3f1c2a9d7e40"
down_revision: str | Sequence[str] | None = "24ceb76b3ca6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_messaging_set_aside("registry")


def downgrade() -> None:
    downgrade_messaging_set_aside("registry")
