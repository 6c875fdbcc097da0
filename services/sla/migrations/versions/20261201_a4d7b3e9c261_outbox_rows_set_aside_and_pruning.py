"""Outbox rows set aside when they can never be published; indexes for pruning sent and old rows.

Revision ID: a4d7b3e9c261
Revises: 45edc364b7dc
Create Date: 2026-12-01 12:00:00.000000

"""

from collections.abc import Sequence

from shared.migrations import downgrade_messaging_set_aside, upgrade_messaging_set_aside

# revision identifiers, used by Alembic.
revision: str = "a4d7b3e9c261"
down_revision: str | Sequence[str] | None = "45edc364b7dc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_messaging_set_aside("sla")


def downgrade() -> None:
    downgrade_messaging_set_aside("sla")
