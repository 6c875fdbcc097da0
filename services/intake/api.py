"""Intake's `/v1` API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.intake import repository
from services.intake.models import Complaint
from services.intake.pii import PiiCipher, mask_name, mask_phone
from services.intake.schemas import ComplaintIn, ComplaintOut, ReporterOut
from services.intake.service import file_complaint
from shared.errors import NotFound, Unavailable
from shared.service_app import RuntimeDep, SessionDep
from shared.snapshot_cache import SnapshotCache

router = APIRouter(prefix="/v1", tags=["complaints"])


def to_out(complaint: Complaint, cipher: PiiCipher) -> ComplaintOut:
    return ComplaintOut(
        id=complaint.id,
        status=complaint.status,
        source=complaint.source,
        source_ref=complaint.source_ref,
        category=complaint.category,
        urgency=complaint.urgency,
        description=complaint.description,
        district_code=complaint.district_code,
        street_code=complaint.street_code,
        community_code=complaint.community_code,
        lat=complaint.lat,
        lon=complaint.lon,
        tracking_token=complaint.tracking_token,
        reporter=ReporterOut(
            name=mask_name(cipher.decrypt(complaint.reporter_name)),
            phone=mask_phone(cipher.decrypt(complaint.reporter_phone)),
        ),
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
    )


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintOut,
    responses={200: {"model": ComplaintOut, "description": "Filed before: the same complaint"}},
)
async def post_complaint(
    body: ComplaintIn, request: Request, response: Response, session: SessionDep, runtime: RuntimeDep
) -> ComplaintOut:
    cache: SnapshotCache = request.app.state.snapshot
    if cache.index is None:
        raise Unavailable("the city's registry snapshot is not loaded yet")
    cipher: PiiCipher = request.app.state.cipher
    complaint, created = await file_complaint(
        session=session, body=body, cache=cache, cipher=cipher, outbox=runtime.outbox
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/complaints/{complaint.id}"
    return to_out(complaint, cipher)


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
async def get_complaint(complaint_id: str, request: Request, session: SessionDep) -> ComplaintOut:
    complaint = await repository.get(session, complaint_id)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    return to_out(complaint, request.app.state.cipher)
