"""Intake's tables (schema `intake`). Residents' names, phones, emails and address text are
stored encrypted (`*_enc`, see pii.py); nothing else here identifies a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.db import schema_metadata
from shared.messaging_tables import messaging_tables

# The clock at the moment of the insert (not the transaction's start, as now() is).
CLOCK = text("clock_timestamp()")


class Base(DeclarativeBase):
    metadata = schema_metadata("intake")


MESSAGING = messaging_tables(Base.metadata)
AUDIT = audit_table(Base.metadata)


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        UniqueConstraint("source", "idempotency_key"),
        # Duplicate search: open complaints of a category, recent first.
        Index(
            "ix_complaints_merge_candidates",
            "category",
            "created_at",
            postgresql_where=text("merged_into IS NULL"),
        ),
        Index("ix_complaints_created_at_id", "created_at", "id"),
        # Open311 searches a sync follows: by when intake last recorded a change.
        Index("ix_complaints_recorded_at_id", "recorded_at", "id"),
        Index(
            "ix_complaints_followup_requested",
            "created_at",
            postgresql_where=text("followup_requested_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    filed_by: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    media_urls: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    district_code: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(64), index=True)
    community_code: Mapped[str] = mapped_column(String(64), index=True)
    sub_area_code: Mapped[str | None] = mapped_column(String(64), index=True)  # 居民小组 / 楼门院
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reporter_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    reporter_phone: Mapped[bytes | None] = mapped_column(LargeBinary)
    reporter_email: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How many residents reported this matter (1 + the complaints merged into it).
    reporter_count: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    merged_into: Mapped[str | None] = mapped_column(String(36), index=True)
    # Dispatch's current whistle for the matter, its lead unit and the SLA resolve deadline.
    whistle_id: Mapped[str | None] = mapped_column(String(36))
    lead_unit_code: Mapped[str | None] = mapped_column(String(64))
    expected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    round: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When intake last recorded a change to it, by the database's clock (Open311 `updated_datetime`).
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=CLOCK)
    # A resident asked (through Open311) for a follow-up of the resolved complaint; the hotline's
    # next follow-up result clears it.
    followup_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StatusChange(Base):
    """The complaint's timeline: each change it went through (`kind`, see status.py), the status it
    left the complaint in, when, by which unit, and a note for the resident. Its resident-visible
    entries are the Open311 update stream, read by `recorded_at`."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_recorded_at_id", "recorded_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    # The answering unit's result, for a `resolved` entry.
    result: Mapped[str | None] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    # When the change happened (the event's time) and when intake recorded it (the database's clock
    # at insert: what a sync follows).
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=CLOCK)


class HandlingUnit(Base):
    """A unit a whistle summoned for the complaint (from `whistle.issued`): who may read the contact."""

    __tablename__ = "handling_units"
    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    whistle_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Feedback(Base):
    """The hotline's follow-up call (回访) results, one per call."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[bool] = mapped_column(Boolean)
    satisfaction: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ContactRead(Base):
    """The audit log of reads of a reporter's contact (granted or refused)."""

    __tablename__ = "contact_reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    client_kind: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(64))
    street_code: Mapped[str | None] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Merge(Base):
    """A duplicate merged into an open complaint, and whether (and by whom) it was undone."""

    __tablename__ = "merges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    into_complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    distance_meters: Mapped[float] = mapped_column(Float)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(64))


class ResidentUpdate(Base):
    """An update a resident sent through an Open311 client (`POST servicerequestupdates`): their
    text for the hotline, their contact encrypted like a complaint's. Idempotent on the client's own
    update id; `entry_id` is its timeline entry, the `update_id` the client is given."""

    __tablename__ = "resident_updates"
    __table_args__ = (UniqueConstraint("client_id", "client_update_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    client_update_id: Mapped[str] = mapped_column(String(128))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("status_changes.id"))
    status_sent: Mapped[str] = mapped_column(String(64))
    says: Mapped[str] = mapped_column(String(16))
    followup_requested: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text, default="")
    media_url: Mapped[str | None] = mapped_column(Text)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The client's own time of the update, as it sent it.
    updated_datetime: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=CLOCK)
