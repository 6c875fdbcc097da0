"""A resident's own update of their complaint, sent through an Open311 client (the one a
FixMyStreet-style site runs): stored for the hotline, once per client update id.

    the update                 stored: their text for the hotline, their name, email and phone
                               encrypted like a complaint's; a timeline entry (kind `resident_update`
                               or `followup_requested`, a standard note, never their text)
    "not fixed" on a resolved  the complaint asks for a follow-up (`followup_requested_at`, seen in
    complaint                  `/v1`); the hotline's next follow-up result clears it and closes or
                               reopens the complaint by the usual rules — an update never reopens
                               anything by itself
    the same update id again   nothing new: the update stored first answers (first write wins)

Nothing of it goes on Kafka: no other service acts on it, and its text is the resident's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository, timeline_repository
from services.intake.context import IntakeContext
from services.intake.drafts import UpdateDraft
from services.intake.repository import Entry
from services.intake.status import (
    asks_for_followup,
    normalise_client_status,
    resident_says,
    resident_update_note,
)
from shared.errors import NotFound
from shared.events import utcnow
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Recorded:
    update_id: str  # the timeline entry's id: what the client is told
    created: bool
    followup_requested: bool


async def record_resident_update(
    *, session: AsyncSession, ctx: IntakeContext, draft: UpdateDraft, client_id: str
) -> Recorded:
    """Store the update (flush only; the caller commits). Raises NotFound for an unknown request."""
    complaint = await repository.get(session, draft.service_request_id, for_update=True)
    if complaint is None:
        raise NotFound(f"service_request_id {draft.service_request_id!r} not found")
    says = resident_says(draft.status_sent)
    followup = asks_for_followup(says, complaint.status)
    encrypt = ctx.cipher.encrypt
    stored_id = await timeline_repository.insert_resident_update(
        session,
        dict(
            complaint_id=complaint.id,
            client_id=client_id,
            client_update_id=draft.client_update_id,
            status_sent=normalise_client_status(draft.status_sent),
            says=says,
            followup_requested=followup,
            description=draft.description,
            media_url=draft.media_url,
            name_enc=encrypt(draft.name),
            email_enc=encrypt(draft.email),
            phone_enc=encrypt(draft.phone),
            updated_datetime=draft.updated_datetime,
        ),
    )
    if stored_id is None:
        return await _stored_before(session, client_id, draft.client_update_id)
    now = utcnow()
    kind = "followup_requested" if followup else "resident_update"
    note = resident_update_note(says, followup=followup)
    entry_id = await timeline_repository.insert_entry(
        session, complaint.id, Entry(complaint.status, kind, now, None, note)
    )
    await timeline_repository.link_entry(session, stored_id, entry_id)
    if followup and complaint.followup_requested_at is None:
        await repository.set_followup_requested(session, complaint.id, now)
    log.info(
        "intake.resident_update_recorded",
        complaint_id=complaint.id,
        update_id=entry_id,
        client_id=client_id,
        says=says,
        followup_requested=followup,
    )
    return Recorded(str(entry_id), created=True, followup_requested=followup)


async def _stored_before(session: AsyncSession, client_id: str, client_update_id: str) -> Recorded:
    existing = await timeline_repository.resident_update_by_client_id(session, client_id, client_update_id)
    assert existing is not None  # the insert met it
    log.info("intake.resident_update_repeated", update_id=existing.entry_id, client_id=client_id)
    return Recorded(str(existing.entry_id), created=False, followup_requested=existing.followup_requested)
