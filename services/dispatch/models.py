"""Dispatch's tables (schema `dispatch`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.dispatch.lifecycle import OPEN
from shared.audit import audit_table
from shared.db import schema_metadata
from shared.messaging_tables import messaging_tables


class Base(DeclarativeBase):
    metadata = schema_metadata("dispatch")


MESSAGING = messaging_tables(Base.metadata)
AUDIT = audit_table(Base.metadata)

_OPEN_SQL = "status IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")"


class Whistle(Base):
    __tablename__ = "whistles"
    __table_args__ = (
        UniqueConstraint("complaint_id", "round"),
        Index("ix_whistles_street_issued", "street_code", "issued_at", "id"),
        Index("ix_whistles_district_issued", "district_code", "issued_at", "id"),
        Index("ix_whistles_community_issued", "community_code", "issued_at", "id"),
        Index("ix_whistles_parent_whistle_id", "parent_whistle_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(24), server_default="department")
    category: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text))
    visit_required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    parent_whistle_id: Mapped[str | None] = mapped_column(String(36))
    """The whistle this one answers: a street whistling departments for a community's whistle."""
    community_code: Mapped[str | None] = mapped_column(String(64))
    """The community the matter is in: the complaint's, or the one that blew its own whistle (社区吹哨)."""
    # A street's own whistle: what the street wrote, where, why, and which client blew it. The
    # street's text stays here (never on a topic or in a log line).
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    blown_by: Mapped[str | None] = mapped_column(String(100))
    snapshot_version: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="whistle", lazy="raise", order_by="Assignment.position"
    )


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("whistle_id", "unit_code"),
        # The read views page over (queued_at, id).
        Index("ix_assignments_department_queue", "department_code", "queued_at", "id"),
        Index("ix_assignments_unit_queue", "unit_code", "queued_at", "id"),
        # Claims: open work nobody holds, oldest first; and the leases, by when they run out.
        Index(
            "ix_assignments_claimable",
            "department_code",
            "queued_at",
            "id",
            postgresql_where=text(f"{_OPEN_SQL} AND lease_expires_at IS NULL"),
        ),
        Index(
            "ix_assignments_leased",
            "department_code",
            "lease_expires_at",
            postgresql_where=text("lease_expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    whistle_id: Mapped[str] = mapped_column(ForeignKey("whistles.id"), index=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    unit_code: Mapped[str] = mapped_column(String(64))
    department_code: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    result: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_site_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report_in_note: Mapped[str | None] = mapped_column(Text)
    reported_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_reason: Mapped[str | None] = mapped_column(String(32))
    return_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The claim (leases.py): who holds it, until when, and for how long each action renews it.
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_seconds: Mapped[int | None] = mapped_column(Integer)
    whistle: Mapped[Whistle] = relationship(back_populates="assignments", lazy="raise")


class ExtensionRequest(Base):
    """延期: a unit's request for more time, and the street's or district's decision."""

    __tablename__ = "extension_requests"
    __table_args__ = (
        Index(
            "uq_extension_requests_one_pending",
            "assignment_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_extension_requests_district_status", "district_code", "status", "requested_at"),
        Index("ix_extension_requests_street_status", "street_code", "status", "requested_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), index=True)
    whistle_id: Mapped[str] = mapped_column(String(36))
    complaint_id: Mapped[str] = mapped_column(String(36))
    unit_code: Mapped[str] = mapped_column(String(64))
    department_code: Mapped[str | None] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    working_days: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    worker: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)


class EscalationStepRow(Base):
    """A step of the escalation ladder set off by a clock's warning or breach: due, fired or skipped.
    Unique per clock, cause and ladder position, so a redelivered event sets nothing off twice."""

    __tablename__ = "escalation_steps"
    __table_args__ = (
        UniqueConstraint("clock_id", "cause", "position"),
        Index("ix_escalation_steps_due", "due_at", postgresql_where=text("fired_at IS NULL")),
        Index(
            "ix_escalation_steps_district",
            "district_code",
            "fired_at",
            postgresql_where=text("action = 'district' AND outcome = 'fired'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    whistle_id: Mapped[str] = mapped_column(String(36), index=True)
    complaint_id: Mapped[str] = mapped_column(String(36))
    assignment_id: Mapped[str | None] = mapped_column(String(36))
    clock_id: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


class ActionReply(Base):
    """The answer to a write sent with an `Idempotency-Key`: a retry with the same key gets it again."""

    __tablename__ = "action_replies"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)  # the JSON answer as sent, byte for byte
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class RefusedPushdown(Base):
    """Audit: a matter on or off the street duty list handed to the wrong level — a rule that tried to
    push an off-list matter down to the street (`pushdown`), or a street whistling departments for its
    own duty-list work (`street_whistle`); and the same at the community level: a rule or a street's
    whistle handing a matter off the community duty list to a committee (`community_pushdown`), a
    community whistling for its own duty-list work (`community_whistle`)."""

    __tablename__ = "refused_pushdowns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24), server_default="pushdown")
    community_code: Mapped[str | None] = mapped_column(String(64))
    complaint_id: Mapped[str | None] = mapped_column(String(36), index=True)
    client_id: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    snapshot_version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
