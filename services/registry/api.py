"""The registry's read API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from services.registry import repository
from services.registry.snapshots import SnapshotBuilder
from shared.service_app import SessionDep

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/categories")
async def list_categories(session: SessionDep) -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name": c.name,
            "name_en": c.name_en,
            "group": c.group,
            "description": c.description,
            "keywords": c.keywords,
            "urgency": c.urgency,
            "attributes": c.attributes,
        }
        for c in await repository.list_categories(session)
    ]


@router.get("/communities")
async def list_communities(
    session: SessionDep,
    street: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await repository.list_communities(session, street=street, limit=limit, after=cursor)
    return {
        "items": [
            {"code": c.code, "name": c.name, "street_code": c.street_code, "households": c.households}
            for c in rows
        ],
        "next_cursor": rows[-1].code if len(rows) == limit else None,
    }


@router.get("/snapshot", responses={304: {"description": "Not modified"}})
async def get_snapshot(
    request: Request, session: SessionDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    builder: SnapshotBuilder = request.app.state.snapshots
    built = await builder.current(session)
    headers = {"ETag": built.etag, "Cache-Control": "no-cache"}
    if if_none_match == built.etag:
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type="application/json", headers=headers)
