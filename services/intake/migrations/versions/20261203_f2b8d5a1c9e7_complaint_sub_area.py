"""A complaint may name a sub-area of its community (a residents' group or a building/courtyard
unit), so reports can group by it.

Revision ID: f2b8d5a1c9e7
Revises: e3a9b6c1d4f8
Create Date: 2026-12-03 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f2b8d5a1c9e7"
down_revision: str | Sequence[str] | None = "e3a9b6c1d4f8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "complaints", sa.Column("sub_area_code", sa.String(length=64), nullable=True), schema="intake"
    )
    op.create_index(
        op.f("ix_intake_complaints_sub_area_code"), "complaints", ["sub_area_code"], schema="intake"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_intake_complaints_sub_area_code"), table_name="complaints", schema="intake")
    op.drop_column("complaints", "sub_area_code", schema="intake")
