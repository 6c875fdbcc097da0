"""Filing a complaint: check it, place it, store it (residents' data encrypted), merge it into an
open complaint about the same matter or announce it for dispatch. Idempotent on the source's own
reference and on an idempotency key.

Both front doors call `file_draft`. It tries the one-statement path first (`file_new_quickly`: a
new complaint that no merge can be due for, one round trip, no session) and falls back to the full
path in a transaction (`file_complaint`: a repeat, a merge, a draft that fails its checks).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.intake import repository, timeline_repository
from services.intake.city_view import degree_box, distance_meters
from services.intake.context import IntakeContext
from services.intake.drafts import Checked, Draft, check
from services.intake.models import Complaint
from services.intake.repository import Entry
from services.intake.status import OPEN_STATUSES, resident_note
from shared.db import raw_connection, sessionmaker, transaction
from shared.errors import Conflict, Unprocessable
from shared.events import ComplaintMerged, ComplaintReceived, utcnow
from shared.logging import get_logger
from shared.messaging_tables import outbox_row, rows_committed

log = get_logger(__name__)


@dataclass(frozen=True)
class Filed:
    complaint: Complaint
    created: bool

    @property
    def outcome(self) -> str:
        if not self.created:
            return "repeated"
        return "merged" if self.complaint.merged_into else "created"


@dataclass(frozen=True)
class Prepared:
    """A checked draft as the rows to write: the complaint and the event announcing it."""

    values: dict[str, Any]
    event: ComplaintReceived

    @property
    def complaint_id(self) -> str:
        return str(self.values["id"])

    def complaint(self) -> Complaint:
        """The row as inserted, with its server defaults (it need not be read back)."""
        return Complaint(**self.values, reporter_count=1, round=1)


def prepare(ctx: IntakeContext, draft: Draft, checked: Checked) -> Prepared:
    place = checked.place
    now = utcnow()
    complaint_id = str(uuid.uuid4())
    encrypt = ctx.cipher.encrypt
    values: dict[str, Any] = dict(
        id=complaint_id,
        source=draft.source,
        source_ref=draft.source_ref,
        idempotency_key=draft.idempotency_key,
        filed_by=draft.filed_by,
        category=draft.category,
        urgency=checked.urgency,
        description=draft.description,
        attributes={k: v if isinstance(v, str) else list(v) for k, v in draft.attributes.items()},
        media_urls=list(draft.media_urls),
        district_code=place.district_code,
        street_code=place.street_code,
        community_code=place.community_code,
        sub_area_code=draft.sub_area_code,
        lat=draft.lat,
        lon=draft.lon,
        address_enc=encrypt(draft.address),
        status="received",
        reporter_name=encrypt(draft.name),
        reporter_phone=encrypt(draft.phone),
        reporter_email=encrypt(draft.email),
        tracking_token=secrets.token_urlsafe(16),
        request_hash=ctx.cipher.fingerprint(draft.content()),
        created_at=now,
        updated_at=now,
    )
    return Prepared(values, received(values, at=now, snapshot_version=ctx.cache.version))


def received(
    complaint: Mapping[str, Any] | Complaint, *, at: datetime, snapshot_version: int
) -> ComplaintReceived:
    """The event announcing a complaint for dispatch (a new one, or one taken out of a merge)."""
    get = complaint.get if isinstance(complaint, Mapping) else complaint.__getattribute__
    return ComplaintReceived(
        complaint_id=get("id"),
        source=get("source"),
        category=get("category"),
        urgency=get("urgency"),
        district_code=get("district_code"),
        street_code=get("street_code"),
        community_code=get("community_code"),
        received_at=at,
        snapshot_version=snapshot_version,
    )


def _log_filed(prepared: Prepared, merged_into: str | None = None) -> None:
    values = prepared.values
    log.info(
        "intake.complaint_filed",
        complaint_id=values["id"],
        category=values["category"],
        street_code=values["street_code"],
        merged_into=merged_into,
    )


async def file_draft(*, engine: AsyncEngine, ctx: IntakeContext, draft: Draft) -> Filed:
    """File a draft from either front door: the complaint, and whether it was created now.

    Raises `Unprocessable` for a draft that fails its checks and `Conflict` for a reference reused
    with a different body."""
    filed = await file_new_quickly(engine=engine, ctx=ctx, draft=draft)
    if filed is not None:
        # Committed outside a session, so no commit hook woke the relay: publish the event now.
        rows_committed(ctx.outbox.table)
        return filed
    async with transaction(sessionmaker(engine)) as session:
        return await file_complaint(session=session, ctx=ctx, draft=draft)


async def file_new_quickly(*, engine: AsyncEngine, ctx: IntakeContext, draft: Draft) -> Filed | None:
    """The hot path: a new complaint, its timeline entry and its event in one statement.

    None when this path cannot decide (a merge may be due, the draft does not pass its checks, or
    it was filed before): `file_complaint` then gives the full answer in a transaction. The relay is
    not woken here (`file_draft` does that).
    """
    if ctx.merge.enabled and draft.lat is not None:
        return None
    checked = check(draft, ctx.view(), ctx.locator())
    if not isinstance(checked, Checked):
        return None
    prepared = prepare(ctx, draft, checked)
    envelope = ctx.outbox.envelope(prepared.event, correlation_id=prepared.complaint_id)
    async with raw_connection(engine) as connection:
        inserted = await repository.file_in_one_statement(
            connection,
            prepared.values,
            note=resident_note("received"),
            outbox=ctx.outbox.table,
            event=outbox_row(envelope, topic=prepared.event.TOPIC),
        )
    if not inserted:
        return None
    _log_filed(prepared)
    return Filed(prepared.complaint(), created=True)


async def file_complaint(*, session: AsyncSession, ctx: IntakeContext, draft: Draft) -> Filed:
    """The complaint and whether it was created now (False: the same one, filed before).

    One insert per table: the unique keys decide whether it was filed before.
    """
    checked = check(draft, ctx.view(), ctx.locator())
    if not isinstance(checked, Checked):
        existing = await _filed_before(session, draft)  # the same request, filed before a change
        if existing is not None:
            return Filed(_same_or_conflict(ctx, existing, draft), created=False)
        raise Unprocessable(
            "; ".join(f"{p.field}: {p.message}" for p in checked), errors=[p.as_error() for p in checked]
        )
    prepared = prepare(ctx, draft, checked)
    complaint_id, now = prepared.complaint_id, prepared.values["created_at"]
    if not await repository.insert_if_new(session, prepared.values):
        existing = await _filed_before(session, draft)
        if existing is None:  # the tracking token collided (never, in practice): a plain retry
            raise Conflict("please retry")
        return Filed(_same_or_conflict(ctx, existing, draft), created=False)
    await timeline_repository.insert_entry(
        session, complaint_id, Entry("received", "filed", now, None, resident_note("received"))
    )
    original = await _open_duplicate(session, ctx, draft, exclude=complaint_id)
    if original is not None:
        await _merge(session, ctx, complaint_id, original, now=now, draft=draft)
        merged = await repository.get(session, complaint_id)
        assert merged is not None
        complaint = merged
    else:
        await ctx.outbox.add(session, prepared.event, correlation_id=complaint_id)
        complaint = prepared.complaint()
    _log_filed(prepared, original.id if original else None)
    return Filed(complaint, created=True)


async def _filed_before(session: AsyncSession, draft: Draft) -> Complaint | None:
    if draft.source_ref is not None:
        found = await repository.get_by_source_ref(session, draft.source, draft.source_ref)
        if found is not None:
            return found
    if draft.idempotency_key is not None:
        return await repository.get_by_idempotency_key(session, draft.source, draft.idempotency_key)
    return None


def _same_or_conflict(ctx: IntakeContext, existing: Complaint, draft: Draft) -> Complaint:
    if not ctx.cipher.same_fingerprint(draft.content(), existing.request_hash):
        ref = existing.source_ref or existing.idempotency_key
        raise Conflict(
            f"{existing.source}/{ref} was filed before with a different body as complaint {existing.id}",
            existing_id=existing.id,
        )
    return existing


async def _open_duplicate(
    session: AsyncSession, ctx: IntakeContext, draft: Draft, *, exclude: str
) -> Complaint | None:
    """The open complaint of the same category nearest to this one within the merge policy, locked."""
    policy = ctx.merge
    if not policy.enabled or draft.lat is None or draft.lon is None:
        return None
    dlat, dlon = degree_box(draft.lat, policy.distance_meters)
    candidates = await repository.merge_candidates(
        session,
        category=draft.category,
        since=utcnow() - policy.window,
        lat=draft.lat,
        lon=draft.lon,
        dlat=dlat,
        dlon=dlon,
        statuses=OPEN_STATUSES,
    )
    ranked = sorted(
        (distance_meters(draft.lat, draft.lon, c.lat, c.lon), c.created_at, c.id) for c in candidates
    )
    for distance, _, candidate_id in ranked:
        if candidate_id == exclude:
            continue
        if distance > policy.distance_meters:
            break
        original = await repository.get(session, candidate_id, for_update=True)
        if original is not None and original.merged_into is None and original.status in OPEN_STATUSES:
            return original
    return None


async def _merge(
    session: AsyncSession,
    ctx: IntakeContext,
    complaint_id: str,
    original: Complaint,
    *,
    now: datetime,
    draft: Draft,
) -> None:
    """The new complaint follows the original from now on; keyed by the original, so the event
    stays in order with the rest of the matter's events."""
    count = original.reporter_count + 1
    await repository.update_complaint(session, original.id, reporter_count=count, updated_at=now)
    await repository.update_complaint(
        session,
        complaint_id,
        merged_into=original.id,
        status=original.status,
        whistle_id=original.whistle_id,
        lead_unit_code=original.lead_unit_code,
        expected_at=original.expected_at,
    )
    assert (
        draft.lat is not None
        and draft.lon is not None
        and original.lat is not None
        and original.lon is not None
    )
    repository.add_merge(
        session,
        complaint_id=complaint_id,
        into_complaint_id=original.id,
        distance_meters=distance_meters(draft.lat, draft.lon, original.lat, original.lon),
        merged_at=now,
    )
    view = ctx.view()
    note = resident_note(
        original.status,
        view.unit_name(original.lead_unit_code),
        detail=f"与{count}位市民反映的同一问题合并办理",
    )
    timeline_repository.add_entry(
        session, complaint_id, Entry(original.status, "merged", now, original.lead_unit_code, note)
    )
    await ctx.outbox.add(
        session,
        ComplaintMerged(
            complaint_id=complaint_id,
            into_complaint_id=original.id,
            category=original.category,
            street_code=original.street_code,
            reporter_count=count,
            at=now,
        ),
        correlation_id=original.id,
    )
