"""How a stored complaint is shown: our `/v1` JSON and Open311's request records. Residents' data
is masked here; only the audited contact read decrypts it in full."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from services.intake.city_view import CityView
from services.intake.models import Complaint, StatusChange
from services.intake.open311.documents import RequestInfo
from services.intake.pii import PiiCipher, mask_address, mask_name, mask_phone
from services.intake.schemas import ComplaintOut, ReporterOut, TimelineEntry
from services.intake.status import open311_status, resident_note
from shared.errors import BadRequest


def complaint_out(complaint: Complaint, cipher: PiiCipher, view: CityView | None) -> ComplaintOut:
    decrypt = cipher.decrypt
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
        lat=complaint.lat,
        lon=complaint.lon,
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
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
    )


def timeline_entry(change: StatusChange, view: CityView | None) -> TimelineEntry:
    return TimelineEntry(
        status=change.status,
        at=change.at,
        unit_code=change.unit_code,
        unit_name=view.unit_name(change.unit_code) if view else change.unit_code,
        note=change.note,
    )


def request_info(complaint: Complaint, view: CityView | None) -> RequestInfo:
    """One Open311 service request. `address` is the community in words, never the resident's text."""
    category = view.categories.get(complaint.category) if view else None
    notes = resident_note(
        complaint.status, view.unit_name(complaint.lead_unit_code) if view else complaint.lead_unit_code
    )
    if complaint.reporter_count > 1:
        notes += f"（{complaint.reporter_count}位市民反映）"
    media = complaint.media_urls or []
    return RequestInfo(
        service_request_id=complaint.id,
        status=open311_status(complaint.status),
        status_notes=notes,
        service_name=category.name if category else None,
        service_code=complaint.category,
        description=complaint.description,
        agency_responsible=view.unit_name(complaint.lead_unit_code) if view else complaint.lead_unit_code,
        service_notice=f"merged into {complaint.merged_into}" if complaint.merged_into else None,
        requested_datetime=complaint.created_at,
        updated_datetime=complaint.updated_at,
        expected_datetime=complaint.expected_at,
        address=view.address_of(None, complaint.community_code) if view else None,
        address_id=complaint.community_code,
        lat=complaint.lat,
        long=complaint.lon,
        media_url=media[0] if media else None,
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
