"""The registry's tables (schema `registry`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.db import schema_metadata
from shared.messaging_tables import messaging_tables


class Base(DeclarativeBase):
    metadata = schema_metadata("registry")


MESSAGING = messaging_tables(Base.metadata)
AUDIT = audit_table(Base.metadata)


class Lifecycle:
    """When a row was made and last changed, and when it was retired (kept, never deleted)."""

    # Fetch server-made timestamps with RETURNING, so they can be read after a flush without I/O.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class City(Base):
    __tablename__ = "city"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class District(Lifecycle, Base):
    __tablename__ = "districts"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    backstop_code: Mapped[str] = mapped_column(String(64), unique=True)
    backstop_name: Mapped[str] = mapped_column(Text)


class Street(Lifecycle, Base):
    __tablename__ = "streets"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    polygon: Mapped[list[list[float]] | None] = mapped_column(JSONB)
    """A stored boundary; NULL: the union of the street's communities."""


class Community(Lifecycle, Base):
    __tablename__ = "communities"
    __table_args__ = (Index("ix_communities_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("streets.code"), index=True)
    name: Mapped[str] = mapped_column(Text)
    households: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float)
    social_workers: Mapped[int | None] = mapped_column(Integer)
    polygon: Mapped[list[list[float]]] = mapped_column(JSONB)
    sub_areas: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    """Residents' groups and building/courtyard units (`shared.city.SubArea`), written with it."""
    # The polygon's bounding box, so the neighbours a changed polygon must not overlap are one query.
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class StreetUnit(Lifecycle, Base):
    __tablename__ = "street_units"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("streets.code"), index=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))


class Department(Lifecycle, Base):
    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(64))


class Agency(Lifecycle, Base):
    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    name: Mapped[str] = mapped_column(Text)
    serves: Mapped[list[str]] = mapped_column(ARRAY(String(64)))


class Category(Lifecycle, Base):
    __tablename__ = "categories"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text))
    urgency: Mapped[str] = mapped_column(String(16))
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    position: Mapped[int] = mapped_column(Integer, default=0)


class DutyBlock(Lifecycle, Base):
    __tablename__ = "duty_blocks"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class DutyItem(Lifecycle, Base):
    __tablename__ = "duty_items"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_code: Mapped[str] = mapped_column(ForeignKey("duty_blocks.code"), index=True)
    name: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CommunityDutyBlock(Lifecycle, Base):
    """A block of the community duty list (社区工作准入清单)."""

    __tablename__ = "community_duty_blocks"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CommunityDutyItem(Lifecycle, Base):
    __tablename__ = "community_duty_items"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_code: Mapped[str] = mapped_column(ForeignKey("community_duty_blocks.code"), index=True)
    name: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Rule(Base):
    """A routing rule in force from `effective_from` (NULL: always) until `effective_to` (NULL: open).

    Changing a rule in force ends it and starts a new row (`supersedes` points back); retiring it
    sets `effective_to`. Rows are never deleted, so past complaints can be judged by past rules.
    """

    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __tablename__ = "rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    district: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(64))
    street_unit_kind: Mapped[str | None] = mapped_column(String(32))
    street_unit: Mapped[str | None] = mapped_column(String(64))
    community_committee: Mapped[bool] = mapped_column(Boolean, server_default="false")
    lead: Mapped[str | None] = mapped_column(String(64))
    co: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    effective_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effective_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("rules.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Policy(Base):
    """One version of a policy: SLA for one urgency (`kind` sla), the scoring weights (scoring) or
    the bounce limit and escalation ladder (dispatch)."""

    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __tablename__ = "policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # sla | scoring | dispatch | structure
    urgency: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    effective_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effective_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CalendarOverride(Lifecycle, Base):
    """A local exception to China's official work calendar."""

    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(Text, default="")


class ApiClient(Base):
    __tablename__ = "clients"
    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64))
    community: Mapped[str | None] = mapped_column(String(64))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SnapshotVersion(Base):
    __tablename__ = "snapshot_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    changed: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SigningKey(Base):
    """Keys that sign access tokens. The newest active one signs; all unretired ones are published."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """Open311 api_keys: long-lived signed keys of hotline clients, revocable by id."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The key that signed it: published for as long as the api key lives (it outlives key rotations).
    signing_kid: Mapped[str | None] = mapped_column(String(32))
