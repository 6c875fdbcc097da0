"""SLA's tables (schema `sla`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import schema_metadata
from shared.messaging_tables import messaging_tables


class Base(DeclarativeBase):
    metadata = schema_metadata("sla")


MESSAGING = messaging_tables(Base.metadata)


class Clock(Base):
    __tablename__ = "clocks"
    __table_args__ = (UniqueConstraint("whistle_id", "stage", "unit_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    whistle_id: Mapped[str] = mapped_column(String(36))
    assignment_id: Mapped[str | None] = mapped_column(String(36))
    unit_code: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
