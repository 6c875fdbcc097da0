"""Dispatch's reactions to events."""

from __future__ import annotations

from datetime import datetime

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
        if self._may_be_stale(
            payload.snapshot_version, payload.category, payload.street_code, payload.received_at
        ):
            await self.cache.refresh()  # a category or rule added just before the complaint came in
        if self.cache.index is None:
            raise RuntimeError("registry snapshot not loaded yet")  # retried, not lost
        await dispatch_complaint(
            session=session, complaint=payload, index=self.cache.index, outbox=self.outbox
        )

    def _may_be_stale(self, version: int, category: str, street_code: str, received_at: datetime) -> bool:
        """Our copy may predate the complaint: older than intake's, or it has no rule for the case
        and was last confirmed current before the complaint was received."""
        index = self.cache.index
        if index is None or version > self.cache.version:
            return True
        routable = (
            category in index.categories
            and street_code in index.street_district
            and index.rule_for(category, street_code) is not None
        )
        checked = self.cache.checked_at
        return not routable and (checked is None or checked < received_at)

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
