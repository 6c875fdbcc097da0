"""SLA's tables (schema `sla`).

Derived from the topics (emptied and rebuilt by `whistle sla rebuild`): `whistles` (the rounds SLA
follows), `clocks`, `timers` (due rows of the durable timer), `measures` (what each case counted
for, the tallies' source) and the inbox. Kept by a rebuild, as nothing else holds them: `evaluations`
(streets' evaluations), `periods` (closed periods) with `published_scores` (what was published when
each closed), the audit log and the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.db import schema_metadata
from shared.messaging_tables import messaging_tables


class Base(DeclarativeBase):
    metadata = schema_metadata("sla")


MESSAGING = messaging_tables(Base.metadata)
AUDIT = audit_table(Base.metadata)

Code = String(64)
Id = String(36)


class Whistle(Base):
    """A whistle (one round of a complaint) as SLA follows it."""

    __tablename__ = "whistles"

    whistle_id: Mapped[str] = mapped_column(Id, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(Id, index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(Code)
    urgency: Mapped[str] = mapped_column(String(16))
    street_code: Mapped[str] = mapped_column(Code)
    district_code: Mapped[str] = mapped_column(Code)
    visit_required: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answering_unit: Mapped[str | None] = mapped_column(Code)
    answering_department: Mapped[str | None] = mapped_column(Code)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | superseded
    merged_into: Mapped[str | None] = mapped_column(Id)


class ComplaintFact(Base):
    """What the hotline said of a complaint (merged, closed, its follow-up), kept so that it applies
    to the complaint's whistle even when it arrives first: the two come on different topics."""

    __tablename__ = "complaint_facts"

    complaint_id: Mapped[str] = mapped_column(Id, primary_key=True)
    merged_into: Mapped[str | None] = mapped_column(Id)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # a follow-up no whistle took yet


class Clock(Base):
    __tablename__ = "clocks"

    clock_id: Mapped[str] = mapped_column(Id, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(Id, index=True)
    whistle_id: Mapped[str] = mapped_column(Id, index=True)
    assignment_id: Mapped[str | None] = mapped_column(Id, index=True)
    unit_code: Mapped[str] = mapped_column(Code)
    department_code: Mapped[str | None] = mapped_column(Code)
    owner_street: Mapped[str | None] = mapped_column(Code)  # the street whose own unit it is
    street_code: Mapped[str] = mapped_column(Code)  # the complaint's
    district_code: Mapped[str] = mapped_column(Code)
    role: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")
    reason: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    warn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extension_id: Mapped[str | None] = mapped_column(String(64))  # the last approved extension


class Timer(Base):
    """A clock's warning or breach still to fire; deleted in the transaction that fires it (or stops
    the clock), so each fires at most once."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_fire_at", "fire_at"),)

    clock_id: Mapped[str] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # warning | breach
    fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Measure(Base):
    """What one case counted for one unit: a clock's outcome or a follow-up's, or a street whistle."""

    __tablename__ = "measures"
    __table_args__ = (
        Index("ix_measures_at_measure", "at", "measure"),
        Index("ix_measures_unit_code_at", "unit_code", "at"),
        Index("ix_measures_department_code_at", "department_code", "at"),
        Index("ix_measures_owner_street_at", "owner_street", "at"),
    )

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # clock id, or whistle id + measure
    measure: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(24))
    counted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unit_code: Mapped[str] = mapped_column(Code)
    department_code: Mapped[str | None] = mapped_column(Code)
    owner_street: Mapped[str | None] = mapped_column(Code)
    street_code: Mapped[str] = mapped_column(Code)
    district_code: Mapped[str] = mapped_column(Code)
    complaint_id: Mapped[str] = mapped_column(Id, index=True)
    whistle_id: Mapped[str] = mapped_column(Id)
    assignment_id: Mapped[str | None] = mapped_column(Id)
    clock_id: Mapped[str | None] = mapped_column(Id)


class Evaluation(Base):
    """A street's evaluation of an agency that served it, one per street, agency and period."""

    __tablename__ = "evaluations"
    __table_args__ = (Index("ix_evaluations_period_unit_code", "period", "unit_code"),)

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    street_code: Mapped[str] = mapped_column(Code, primary_key=True)
    unit_code: Mapped[str] = mapped_column(Code, primary_key=True)
    department_code: Mapped[str | None] = mapped_column(Code)
    district_code: Mapped[str] = mapped_column(Code)
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    evaluated_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class ClosedPeriod(Base):
    __tablename__ = "periods"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(100))


class PublishedScore(Base):
    """A unit's standing as published when its period closed (`score.published`)."""

    __tablename__ = "published_scores"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit_code: Mapped[str] = mapped_column(Code, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    band: Mapped[int | None] = mapped_column(Integer)
    eligible: Mapped[bool] = mapped_column(Boolean)
    row: Mapped[dict[str, Any]] = mapped_column(JSONB)
