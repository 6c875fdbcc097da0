"""Dispatch's reactions to events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.routing import dispatch_complaint, redispatch_reopened
from shared.events import ComplaintReceived, ComplaintReopened, Envelope
from shared.messaging_tables import Outbox
from shared.snapshot_cache import SnapshotCache


class DispatchHandlers:
    def __init__(self, cache: SnapshotCache, outbox: Outbox) -> None:
        self.cache = cache
        self.outbox = outbox

    async def on_complaint_received(
        self, session: AsyncSession, payload: ComplaintReceived, envelope: Envelope
    ) -> None:
        if self.cache.index is None or payload.snapshot_version > self.cache.version:
            # Intake placed it with a newer city than ours (a category or rule just added).
            await self.cache.refresh()
        if self.cache.index is None:
            raise RuntimeError("registry snapshot not loaded yet")  # retried, not lost
        await dispatch_complaint(
            session=session, complaint=payload, index=self.cache.index, outbox=self.outbox
        )

    async def on_complaint_reopened(
        self, session: AsyncSession, payload: ComplaintReopened, envelope: Envelope
    ) -> None:
        if self.cache.index is None:
            raise RuntimeError("registry snapshot not loaded yet")
        await redispatch_reopened(
            session=session, complaint=payload, index=self.cache.index, outbox=self.outbox
        )

    def table(self) -> dict[str, object]:
        return {
            "complaint.received": self.on_complaint_received,
            "complaint.reopened": self.on_complaint_reopened,
        }
