"""District command centres as API clients: a client may be bound to a district.

Revision ID: c7e2a91d4b58
Revises: 3f1c2a9d7e40
Create Date: 2026-12-01 22:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c7e2a91d4b58"
down_revision: str | Sequence[str] | None = "3f1c2a9d7e40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("district", sa.String(length=64), nullable=True), schema="registry")


def downgrade() -> None:
    op.drop_column("clients", "district", schema="registry")
