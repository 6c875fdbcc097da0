"""The community level at dispatch: a community's own whistle (社区吹哨), the street answering it
with a whistle of its own (linked by `parent_whistle_id`), and the refusals of the community duty
list, audited like the street's. Who is summoned is decided in `community_summons`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import community_summons, metrics
from services.dispatch.lifecycle import WHISTLE_OPEN
from services.dispatch.repository import whistles as whistle_rows
from services.dispatch.whistles import Summons, issue
from shared.city_index import CityIndex
from shared.errors import NotFound, Unprocessable
from shared.events import utcnow
from shared.logging import get_logger
from shared.messaging_tables import Outbox

log = get_logger(__name__)


def check_community(index: CityIndex, community_code: str) -> str:
    """The community's street; NotFound for a community the city does not have."""
    street = index.community_street.get(community_code)
    if street is None:
        raise NotFound(f"no community {community_code}")
    return street


async def blow(
    session: AsyncSession,
    *,
    community_code: str,
    category: str,
    urgency: str | None,
    extra: dict[str, Any],
    index: CityIndex,
    outbox: Outbox,
) -> str:
    """Issue a community's own whistle (a complaint id of its own) summoning its street;
    `community_summons.CommunityOwnWork` for a matter on the community duty list."""
    if category not in index.categories:
        raise Unprocessable(
            f"unknown category {category!r}",
            errors=[{"field": "body.category", "message": "unknown category", "type": "unknown"}],
        )
    street_code = check_community(index, community_code)
    targets, reasons = community_summons.community_whistle_targets(
        index,
        category=category,
        community_code=community_code,
        desk=index.city.policies_at().dispatch.community_whistle_desk,
    )
    whistle_id = await issue(
        session,
        summons_=Summons(
            complaint_id=str(uuid.uuid4()),
            round=1,
            category=category,
            urgency=urgency or index.categories[category].urgency,
            street_code=street_code,
            district_code=index.street_district[street_code],
            kind="community_whistle",
            targets=targets,
            reasons=(*reasons, f"community {community_code} blew its own whistle"),
            extra=dict(extra, community_code=community_code),
        ),
        index=index,
        outbox=outbox,
    )
    assert whistle_id is not None  # a new complaint id has no whistle yet
    return whistle_id


async def check_parent(session: AsyncSession, *, parent_whistle_id: str, street_code: str) -> None:
    """A street's whistle answers an open whistle of its own street (a community's, or one of its
    own before); 422 otherwise, naming the field."""
    parent = await whistle_rows.whistle(session, parent_whistle_id)
    problem = None
    if parent is None:
        problem = f"no whistle {parent_whistle_id}"
    elif parent.street_code != street_code:
        problem = f"whistle {parent_whistle_id} is not of street {street_code}"
    elif parent.status != WHISTLE_OPEN:
        problem = f"whistle {parent_whistle_id} is {parent.status}"
    if problem is not None:
        raise Unprocessable(
            "The whistle this one answers cannot be linked.",
            errors=[{"field": "body.parent_whistle_id", "message": problem, "type": "parent"}],
        )


async def audit_refusal(
    session: AsyncSession,
    *,
    kind: str,
    street_code: str,
    community_code: str | None,
    category: str,
    client_id: str,
    reason: str,
    version: int,
) -> None:
    """Audit a refused community whistle (`community_whistle`) or a street's whistle handing an
    off-list matter to committees (`community_pushdown`), in a transaction of its own (the
    request's rolls back)."""
    await whistle_rows.insert_refusal(
        session,
        dict(
            kind=kind,
            complaint_id=None,
            client_id=client_id,
            category=category,
            street_code=street_code,
            community_code=community_code,
            reason=reason,
            snapshot_version=version,
            at=utcnow(),
        ),
    )
    log.warning(
        "dispatch.community_refused",
        kind=kind,
        street_code=street_code,
        community_code=community_code,
        category=category,
    )
    metrics.REFUSED.labels(kind).inc()
