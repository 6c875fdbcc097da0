"""A community's own whistle (社区吹哨) and its whistles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.dispatch import communities, community_summons
from services.dispatch.api import cursors
from services.dispatch.api.chained import whistles_out
from services.dispatch.api.deps import Blower, IdempotencyKey, Reader, check_place_within, city_index
from services.dispatch.api.idempotency import fingerprint, once
from services.dispatch.repository import communities as community_rows
from services.dispatch.repository import whistles as whistle_rows
from services.dispatch.schemas import CommunityWhistleIn, WhistleOut, WhistlePage
from shared.access import check_may_blow_community_whistle, check_may_read_community
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["communities"])

Limit = Annotated[int, Query(ge=1, le=500)]


@router.post("/communities/{community_code}/whistles", response_model=WhistleOut, status_code=201)
async def blow_community_whistle(
    community_code: str,
    body: CommunityWhistleIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Blower,
    key: IdempotencyKey = None,
) -> Response:
    """社区吹哨: the community committee summons its street for a matter it cannot solve alone; the
    street may whistle departments in turn (linked). 422 for a matter on the community duty list
    (the community's own work, audited)."""
    index = city_index(request)
    street_code = communities.check_community(index, community_code)
    check_may_blow_community_whistle(principal, community_code)
    check_place_within(request, body.location, level="community", code=community_code)

    async def run() -> WhistleOut:
        try:
            whistle_id = await communities.blow(
                session,
                community_code=community_code,
                category=body.category,
                urgency=body.urgency,
                index=index,
                outbox=runtime.outbox,
                extra=dict(
                    description=body.description,
                    location=body.location.model_dump(exclude_none=True),
                    reason=body.reason,
                    blown_by=principal.client_id,
                ),
            )
        except community_summons.CommunityOwnWork as exc:
            async with runtime.sessions() as own, own.begin():
                await communities.audit_refusal(
                    own,
                    kind="community_whistle",
                    street_code=street_code,
                    community_code=community_code,
                    category=body.category,
                    client_id=principal.client_id,
                    reason=exc.detail,
                    version=index.version,
                )
            raise
        blown = await whistle_rows.whistle(session, whistle_id)
        assert blown is not None
        (out,) = await whistles_out(session, [blown], principal)
        return out

    return await once(
        session,
        client_id=principal.client_id,
        key=key,
        fingerprint=fingerprint("community-whistle", community_code, body.model_dump(mode="json")),
        status_code=201,
        run=run,
    )


@router.get("/communities/{community_code}/whistles", response_model=WhistlePage)
async def community_whistles(
    community_code: str,
    request: Request,
    session: SessionDep,
    principal: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> WhistlePage:
    """The community's whistles (those it blew, and those of complaints in it), newest first, each
    with its chain: for the community, its street, admin and viewer."""
    street_code = communities.check_community(city_index(request), community_code)
    check_may_read_community(principal, community_code, street_code=street_code)
    rows = list(
        await community_rows.community_whistles_page(
            session,
            community_code=community_code,
            statuses=status,
            limit=limit,
            before=cursors.decode(cursor),
        )
    )
    last = rows[-1] if len(rows) == limit else None
    return WhistlePage(
        items=await whistles_out(session, rows, principal),
        next_cursor=cursors.encode(last.issued_at, last.id) if last else None,
    )
