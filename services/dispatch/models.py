"""Dispatch's tables (schema `dispatch`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import schema_metadata
from shared.messaging_tables import messaging_tables


class Base(DeclarativeBase):
    metadata = schema_metadata("dispatch")


MESSAGING = messaging_tables(Base.metadata)


class Whistle(Base):
    __tablename__ = "whistles"
    __table_args__ = (UniqueConstraint("complaint_id", "round"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    category: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text))
    snapshot_version: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="whistle", lazy="raise", order_by="Assignment.position"
    )


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("whistle_id", "unit_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    whistle_id: Mapped[str] = mapped_column(ForeignKey("whistles.id"), index=True)
    complaint_id: Mapped[str] = mapped_column(String(36))
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    department_code: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    result: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    whistle: Mapped[Whistle] = relationship(back_populates="assignments", lazy="raise")


class RefusedPushdown(Base):
    """Audit: a matter off the street duty list that a rule tried to push down to the street."""

    __tablename__ = "refused_pushdowns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    category: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    snapshot_version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
