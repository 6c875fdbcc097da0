"""SLA's read API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from services.sla import repository
from shared.access import Principal
from shared.auth import require
from shared.service_app import SessionDep

router = APIRouter(prefix="/v1", tags=["sla"])


class ClockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    complaint_id: str
    whistle_id: str
    assignment_id: str | None
    unit_code: str
    stage: str
    status: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None


@router.get("/clocks", response_model=list[ClockOut])
async def list_clocks(
    session: SessionDep, principal: Annotated[Principal, require("sla:read")], complaint_id: str
) -> list[ClockOut]:
    return [ClockOut.model_validate(c) for c in await repository.clocks_of(session, complaint_id)]
