"""The community level: a whistle's community (a community's own whistle, 社区吹哨), the link from a
street's whistle to the community whistle it answers, and refusals aimed at a community committee.

Revision ID: b71c4e2a9f06
Revises: 5e7a3c9d2b14
Create Date: 2026-12-03 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b71c4e2a9f06"
down_revision: str | Sequence[str] | None = "5e7a3c9d2b14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "dispatch"


def upgrade() -> None:
    op.add_column("whistles", sa.Column("community_code", sa.String(64), nullable=True), schema=S)
    op.create_index(
        "ix_whistles_community_issued", "whistles", ["community_code", "issued_at", "id"], schema=S
    )
    op.create_index("ix_whistles_parent_whistle_id", "whistles", ["parent_whistle_id"], schema=S)
    op.alter_column("refused_pushdowns", "kind", type_=sa.String(24), existing_type=sa.String(16), schema=S)
    op.add_column("refused_pushdowns", sa.Column("community_code", sa.String(64), nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("refused_pushdowns", "community_code", schema=S)
    op.execute(f"DELETE FROM {S}.refused_pushdowns WHERE length(kind) > 16")
    op.alter_column("refused_pushdowns", "kind", type_=sa.String(16), existing_type=sa.String(24), schema=S)
    op.drop_index("ix_whistles_parent_whistle_id", table_name="whistles", schema=S)
    op.drop_index("ix_whistles_community_issued", table_name="whistles", schema=S)
    op.drop_column("whistles", "community_code", schema=S)
