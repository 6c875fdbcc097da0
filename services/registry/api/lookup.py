"""The routing model as a whole: the snapshot, and resolve / route over it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from services.registry import lookup
from services.registry.lookup_schemas import ResolveIn, ResolveOut, RouteIn, RouteOut
from services.registry.snapshots import BuiltSnapshot, SnapshotBuilder
from shared.access import Principal
from shared.auth import require
from shared.errors import BadRequest
from shared.events import utcnow
from shared.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["registry: routing"])

Reader = Annotated[Principal, require("registry:read")]


async def current(request: Request) -> BuiltSnapshot:
    """The current snapshot; no database session is held for the request (see `SnapshotBuilder`)."""
    builder: SnapshotBuilder = request.app.state.snapshots
    runtime: Runtime = request.app.state.runtime
    return await builder.current(runtime.sessions)


@router.get("/snapshot", responses={304: {"description": "Not modified"}})
async def get_snapshot(
    request: Request,
    principal: Reader,
    at: Annotated[
        datetime | None, Query(description="only the rules and policies in force at this instant")
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The whole routing model at the current version (`CitySnapshot`), with an ETag.

    By default every rule and policy version is included with its effective range, so a consumer
    can route a complaint by the rules of its time; `?at=` narrows them to those in force then.
    """
    builder: SnapshotBuilder = request.app.state.snapshots
    if at is not None:
        if at.tzinfo is None:
            raise BadRequest("`at` needs a time zone (e.g. 2026-03-01T09:00:00+08:00)")
        runtime: Runtime = request.app.state.runtime
        async with runtime.sessions() as session, session.begin():
            built = await builder.at(session, at)
    else:
        built = await current(request)
    headers = {"ETag": built.etag, "Cache-Control": "no-cache"}
    if if_none_match == built.etag:
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type="application/json", headers=headers)


@router.post("/resolve")
async def resolve(body: ResolveIn, request: Request, principal: Reader) -> ResolveOut:
    """`{lat, lon}` or `{community_code}` → community, street and district. A point no community
    covers is outside the city: 422."""
    return lookup.resolve(await current(request), body)


@router.post("/route")
async def route(body: RouteIn, request: Request, principal: Reader) -> RouteOut:
    """The units a complaint of `category` at `street_code` would be dispatched to (by the rules in
    force `at`, default now), why, and every rule that matched."""
    return lookup.route_explained(await current(request), body, now=utcnow())
