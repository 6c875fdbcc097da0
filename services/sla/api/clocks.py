"""`GET /v1/clocks`: a complaint's deadlines, as far as the client may see them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from services.sla.api.schemas import ClockOut
from services.sla.repository import clocks as clock_rows
from shared.access import Principal, may_see_clock
from shared.auth import require
from shared.errors import Forbidden
from shared.service_app import SessionDep

router = APIRouter(prefix="/v1", tags=["clocks"])


@router.get("/clocks", response_model=list[ClockOut])
async def list_clocks(
    session: SessionDep, principal: Annotated[Principal, require("sla:read")], complaint_id: str
) -> list[ClockOut]:
    """Each clock's deadline, warning and breach instants, and how and why it stopped. A
    department sees its own units' clocks, a street its street's, a district its district's."""
    found = await clock_rows.clocks_of(session, complaint_id)
    visible = [
        ClockOut.model_validate(c)
        for c in found
        if may_see_clock(
            principal,
            department_code=c.department_code,
            street_code=c.street_code,
            district_code=c.district_code,
            stage=c.stage,
        )
    ]
    if found and not visible:
        raise Forbidden(f"this client may not read the clocks of complaint {complaint_id}")
    return visible
