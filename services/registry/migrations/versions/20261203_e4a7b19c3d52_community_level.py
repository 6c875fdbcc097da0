"""The community level: the community duty list (社区工作准入清单), communities' residents, area,
social workers and sub-areas (居民小组, 楼门院), rules handing a matter to a community committee,
and API clients bound to a community.

Revision ID: e4a7b19c3d52
Revises: d18a4c6e0f93
Create Date: 2026-12-03 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "e4a7b19c3d52"
down_revision: str | Sequence[str] | None = "d18a4c6e0f93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "registry"


def _lifecycle() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "community_duty_blocks",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_lifecycle(),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_community_duty_blocks")),
        schema=S,
    )
    op.create_table(
        "community_duty_items",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("block_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("categories", sa.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_lifecycle(),
        sa.ForeignKeyConstraint(
            ["block_code"],
            ["registry.community_duty_blocks.code"],
            name=op.f("fk_community_duty_items_block_code_community_duty_blocks"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_community_duty_items")),
        schema=S,
    )
    op.create_index(
        op.f("ix_registry_community_duty_items_block_code"), "community_duty_items", ["block_code"], schema=S
    )
    op.add_column("communities", sa.Column("residents", sa.Integer(), nullable=True), schema=S)
    op.add_column("communities", sa.Column("area_km2", sa.Float(), nullable=True), schema=S)
    op.add_column("communities", sa.Column("social_workers", sa.Integer(), nullable=True), schema=S)
    op.add_column(
        "communities",
        sa.Column("sub_areas", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        schema=S,
    )
    op.add_column(
        "rules",
        sa.Column("community_committee", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema=S,
    )
    op.add_column("clients", sa.Column("community", sa.String(length=64), nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("clients", "community", schema=S)
    op.drop_column("rules", "community_committee", schema=S)
    for column in ("sub_areas", "social_workers", "area_km2", "residents"):
        op.drop_column("communities", column, schema=S)
    op.drop_index(
        op.f("ix_registry_community_duty_items_block_code"), table_name="community_duty_items", schema=S
    )
    op.drop_table("community_duty_items", schema=S)
    op.drop_table("community_duty_blocks", schema=S)
