"""How a stored complaint is shown: our `/v1` JSON and Open311's request records and updates.
Residents' data is masked here; only the audited contact read decrypts it in full.

Positions: a complaint placed by a point shows that point; one placed by community code or address
shows the community's representative point (`approximate` in `/v1`). Open311's public view (reads
without an api_key, when the city allows them) shows every complaint at its community's point, and
no free text or media."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from services.intake.city_view import CityView
from services.intake.models import Complaint, ResidentUpdate, StatusChange
from services.intake.open311.documents import RequestInfo, RequestUpdate
from services.intake.pii import PiiCipher, mask_address, mask_email, mask_name, mask_phone
from services.intake.schemas import ComplaintOut, ReporterOut, ResidentUpdateOut, TimelineEntry
from services.intake.status import extended_status, external_status_code, open311_status, resident_note
from shared.errors import BadRequest


def position(
    complaint: Complaint, view: CityView | None, *, exact: bool = True
) -> tuple[float | None, float | None, bool]:
    """Where the complaint is shown (lat, lon) and whether that is approximate (the community's
    representative point rather than the point it was placed at)."""
    if exact and complaint.lat is not None and complaint.lon is not None:
        return complaint.lat, complaint.lon, False
    point = view.point_of(complaint.community_code) if view else None
    if point is None:
        return None, None, False
    return point[0], point[1], True


def complaint_out(complaint: Complaint, cipher: PiiCipher, view: CityView | None) -> ComplaintOut:
    decrypt = cipher.decrypt
    lat, lon, approximate = position(complaint, view)
    return ComplaintOut(
        id=complaint.id,
        status=complaint.status,
        source=complaint.source,
        source_ref=complaint.source_ref,
        category=complaint.category,
        urgency=complaint.urgency,
        description=complaint.description,
        attributes=complaint.attributes or {},
        media_urls=complaint.media_urls or [],
        district_code=complaint.district_code,
        street_code=complaint.street_code,
        community_code=complaint.community_code,
        sub_area_code=complaint.sub_area_code,
        lat=lat,
        lon=lon,
        approximate=approximate,
        place=view.address_of(None, complaint.community_code) if view else None,
        address=mask_address(decrypt(complaint.address_enc)),
        tracking_token=complaint.tracking_token,
        reporter=ReporterOut(
            name=mask_name(decrypt(complaint.reporter_name)),
            phone=mask_phone(decrypt(complaint.reporter_phone)),
        ),
        reporter_count=complaint.reporter_count,
        merged_into=complaint.merged_into,
        agency_responsible=view.unit_name(complaint.lead_unit_code) if view else complaint.lead_unit_code,
        expected_at=complaint.expected_at,
        followup_requested=complaint.followup_requested_at is not None,
        followup_requested_at=complaint.followup_requested_at,
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
    )


def timeline_entry(change: StatusChange, view: CityView | None) -> TimelineEntry:
    return TimelineEntry(
        id=change.id,
        status=change.status,
        kind=change.kind,
        result=change.result,
        at=change.at,
        unit_code=change.unit_code,
        unit_name=view.unit_name(change.unit_code) if view else change.unit_code,
        note=change.note,
    )


def request_info(complaint: Complaint, view: CityView | None, *, full: bool = True) -> RequestInfo:
    """One Open311 service request (`full`: for an api_key; else the public view). `address` is the
    community in words, never the resident's text; `updated_datetime` is when intake last recorded
    a change to it."""
    category = view.categories.get(complaint.category) if view else None
    notes = resident_note(
        complaint.status, view.unit_name(complaint.lead_unit_code) if view else complaint.lead_unit_code
    )
    if complaint.reporter_count > 1:
        notes += f"（{complaint.reporter_count}位市民反映）"
    media = complaint.media_urls or []
    lat, lon, _ = position(complaint, view, exact=full)
    return RequestInfo(
        service_request_id=complaint.id,
        status=open311_status(complaint.status),
        status_notes=notes,
        service_name=category.name if category else None,
        service_code=complaint.category,
        description=complaint.description if full else None,
        agency_responsible=view.unit_name(complaint.lead_unit_code) if view else complaint.lead_unit_code,
        service_notice=f"merged into {complaint.merged_into}" if complaint.merged_into else None,
        requested_datetime=complaint.created_at,
        updated_datetime=complaint.recorded_at,
        expected_datetime=complaint.expected_at,
        address=view.address_of(None, complaint.community_code) if view else None,
        address_id=complaint.community_code,
        lat=lat,
        long=lon,
        media_url=media[0] if media and full else None,
    )


def request_update(entry: StatusChange, *, extended: bool = True) -> RequestUpdate:
    """One Open311 update from a timeline entry of the stream (status.py maps the kinds). The note
    is the resident-facing one intake wrote: never a department's own note or a resident's text."""
    status = extended_status(entry.kind, entry.result) if extended else None
    return RequestUpdate(
        update_id=str(entry.id),
        service_request_id=entry.complaint_id,
        status=status or open311_status(entry.status),
        updated_datetime=entry.recorded_at,
        description=entry.note or None,
        media_url=None,
        external_status_code=external_status_code(entry.kind, entry.result),
    )


def resident_update_out(update: ResidentUpdate, cipher: PiiCipher) -> ResidentUpdateOut:
    """A resident's update as the hotline reads it: their text, their contact masked."""
    decrypt = cipher.decrypt
    return ResidentUpdateOut(
        update_id=str(update.entry_id or ""),
        client_id=update.client_id,
        client_update_id=update.client_update_id,
        status_sent=update.status_sent,
        says=update.says,
        followup_requested=update.followup_requested,
        description=update.description,
        media_url=update.media_url,
        name=mask_name(decrypt(update.name_enc)),
        email=mask_email(decrypt(update.email_enc)),
        phone=mask_phone(decrypt(update.phone_enc)),
        updated_datetime=update.updated_datetime,
        recorded_at=update.recorded_at,
    )


def encode_cursor(created_at: datetime, complaint_id: str) -> str:
    raw = f"{created_at.isoformat()}|{complaint_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, complaint_id = raw.partition("|")
        moment = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("cursor is not one this API gave out") from exc
    if not complaint_id or moment.tzinfo is None:
        raise BadRequest("cursor is not one this API gave out")
    return moment, complaint_id
