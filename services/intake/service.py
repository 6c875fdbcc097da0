"""Filing a complaint: place it, store it (PII encrypted), announce it. Idempotent on source+ref."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.models import Complaint, StatusChange
from services.intake.pii import PiiCipher
from services.intake.schemas import ComplaintIn
from shared.errors import Conflict, Unprocessable
from shared.events import ComplaintReceived, utcnow
from shared.messaging_tables import Outbox
from shared.snapshot_cache import SnapshotCache


def request_hash(body: ComplaintIn) -> str:
    return hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


async def file_complaint(
    *, session: AsyncSession, body: ComplaintIn, cache: SnapshotCache, cipher: PiiCipher, outbox: Outbox
) -> tuple[Complaint, bool]:
    """Returns the complaint and whether it was created now (False: the same one filed before)."""
    digest = request_hash(body)
    existing = await repository.get_by_source(session, body.source, body.source_ref)
    if existing is not None:
        return _same_or_conflict(existing, digest), False

    assert cache.index is not None and cache.locator is not None
    urgency = cache.index.categories.get(body.category)
    if urgency is None:
        raise Unprocessable(
            f"unknown category {body.category!r}",
            errors=[{"field": "category", "message": "not a category of this city"}],
        )
    loc = body.location
    if loc.community_code is not None:
        place = cache.locator.by_code(loc.community_code)
        if place is None:
            raise Unprocessable(
                f"unknown community {loc.community_code!r}",
                errors=[{"field": "location.community_code", "message": "unknown community"}],
            )
    else:
        assert loc.lat is not None and loc.lon is not None
        place = cache.locator.locate(loc.lon, loc.lat)
        if place is None:
            raise Unprocessable(
                "the point is outside the city's communities",
                errors=[{"field": "location", "message": "outside the city"}],
            )

    now = utcnow()
    complaint_id = str(uuid.uuid4())
    values = dict(
        id=complaint_id,
        source=body.source,
        source_ref=body.source_ref,
        category=body.category,
        urgency=body.urgency or urgency,
        description=body.description,
        district_code=place.district_code,
        street_code=place.street_code,
        community_code=place.community_code,
        lat=loc.lat,
        lon=loc.lon,
        status="received",
        reporter_name=cipher.encrypt(body.reporter.name),
        reporter_phone=cipher.encrypt(body.reporter.phone),
        tracking_token=secrets.token_urlsafe(16),
        request_hash=digest,
        created_at=now,
        updated_at=now,
    )
    if not await repository.insert_if_new(session, values):  # lost a race with the same source_ref
        existing = await repository.get_by_source(session, body.source, body.source_ref)
        assert existing is not None
        return _same_or_conflict(existing, digest), False
    session.add(StatusChange(complaint_id=complaint_id, status="received", note="complaint received", at=now))
    await outbox.add(
        session,
        ComplaintReceived(
            complaint_id=complaint_id,
            source=body.source,
            category=body.category,
            urgency=values["urgency"],
            district_code=place.district_code,
            street_code=place.street_code,
            community_code=place.community_code,
            received_at=now,
        ),
        correlation_id=complaint_id,
    )
    complaint = await repository.get(session, complaint_id)
    assert complaint is not None
    return complaint, True


def _same_or_conflict(existing: Complaint, digest: str) -> Complaint:
    if existing.request_hash != digest:
        raise Conflict(
            f"{existing.source}/{existing.source_ref} was filed before with a different body",
            existing_id=existing.id,
        )
    return existing
