"""Dispatch's reactions to complaints: a received complaint is dispatched, a reopened one again in
a new round. (Its reactions to SLA's warnings and breaches are in `breaches`.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.whistles import dispatch_complaint, redispatch_reopened
from shared.city_index import CityIndex
from shared.consumer import Delivery, HandlerTable
from shared.events import ComplaintReceived, ComplaintReopened, Envelope
from shared.messaging_tables import Outbox
from shared.snapshot_cache import SnapshotCache


class DispatchHandlers:
    def __init__(self, cache: SnapshotCache, outbox: Outbox) -> None:
        self.cache = cache
        self.outbox = outbox

    async def prepare(self, batch: Sequence[Delivery]) -> None:
        """Before the batch's transaction: refresh our registry copy if it may predate a complaint in
        it (a category or rule added just before the complaint came in). The registry being away is a
        transient fault: the batch waits and is retried."""
        self.cache.require()
        if any(
            isinstance(d.payload, ComplaintReceived)
            and self._may_be_stale(
                d.payload.snapshot_version, d.payload.category, d.payload.street_code, d.payload.received_at
            )
            for d in batch
        ):
            await self.cache.refresh()

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

    def _index(self) -> CityIndex:
        return self.cache.require().index

    async def on_complaint_received(
        self, session: AsyncSession, payload: ComplaintReceived, envelope: Envelope
    ) -> None:
        await dispatch_complaint(session=session, complaint=payload, index=self._index(), outbox=self.outbox)

    async def on_complaint_reopened(
        self, session: AsyncSession, payload: ComplaintReopened, envelope: Envelope
    ) -> None:
        await redispatch_reopened(session=session, complaint=payload, index=self._index(), outbox=self.outbox)

    def table(self) -> HandlerTable:
        return {
            ComplaintReceived: self.on_complaint_received,
            ComplaintReopened: self.on_complaint_reopened,
        }
