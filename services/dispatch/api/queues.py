"""Department and unit queues: the read views (keyset-paged) and claims with leases (long poll)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.dispatch import claims
from services.dispatch.api import cursors
from services.dispatch.api.deps import QueueReader, Worker, city_index, owner_checks, wakeups
from services.dispatch.api.views import assignment_out
from services.dispatch.lifecycle import OPEN
from services.dispatch.models import Assignment
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.schemas import ClaimIn, ClaimOut, QueuePage
from shared.access import check_may_claim, check_may_read_department, check_may_read_unit_queue
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["queues"])

Statuses = Annotated[list[str] | None, Query(description="default: the open statuses")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _page(rows: list[Assignment] | tuple[Assignment, ...], limit: int) -> QueuePage:
    last = rows[-1] if len(rows) == limit else None
    return QueuePage(
        items=[assignment_out(a) for a in rows],
        next_cursor=cursors.encode(last.queued_at, last.id) if last else None,
    )


@router.get("/departments/{department_code}/queue", response_model=QueuePage)
async def department_queue(
    department_code: str,
    session: SessionDep,
    principal: QueueReader,
    status: Statuses = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> QueuePage:
    """The department's assignments, oldest queued first (`next_cursor` pages on)."""
    check_may_read_department(principal, department_code)
    rows = await assignment_rows.queue(
        session,
        department_code=department_code,
        statuses=status or OPEN,
        limit=limit,
        after=cursors.decode(cursor),
    )
    return _page(list(rows), limit)


@router.get("/units/{unit_code}/queue", response_model=QueuePage)
async def unit_queue(
    unit_code: str,
    request: Request,
    session: SessionDep,
    principal: QueueReader,
    status: Statuses = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> QueuePage:
    """A unit's assignments (a street's own unit, an agency, a district backstop)."""
    owner, backstop_of = owner_checks(city_index(request), unit_code)
    check_may_read_unit_queue(principal, unit_code, owner, backstop_of=backstop_of)
    rows = await assignment_rows.queue(
        session, unit_code=unit_code, statuses=status or OPEN, limit=limit, after=cursors.decode(cursor)
    )
    return _page(list(rows), limit)


@router.post("/departments/{department_code}/claims", response_model=ClaimOut)
async def claim(
    department_code: str, body: ClaimIn, request: Request, runtime: RuntimeDep, principal: Worker
) -> ClaimOut:
    """Lease up to `max` of the department's oldest open assignments to `worker` for
    `lease_seconds`; with none waiting, wait up to `wait_seconds` for work (answering at once when
    some is committed, or when a lease runs out). With `sign_off`, the queued orders handed out
    are signed off (签收) by the claim itself."""
    check_may_claim(principal, department_code)
    claimed = await claims.claim(
        runtime.sessions,
        wakeups(request),
        department_code=department_code,
        worker=body.worker,
        max=body.max,
        wait_seconds=body.wait_seconds,
        lease_seconds=body.lease_seconds,
        sign_off=runtime.outbox if body.sign_off else None,
    )
    return ClaimOut(
        items=[assignment_out(a) for a in claimed.items], lease_expires_at=claimed.lease_expires_at
    )
