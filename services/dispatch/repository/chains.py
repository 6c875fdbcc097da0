"""Reading chains of whistles: every whistle linked to the ones asked for, up and down."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.dispatch.chains import Link
from services.dispatch.models import Whistle

MAX_DEPTH = 8
"""Community → street → departments is three; a chain longer than this is not followed further."""


async def links_around(session: AsyncSession, whistles: Sequence[Whistle]) -> list[Link]:
    """The whistles linked to `whistles` (their parents, their parents' other children …) as links."""
    found: dict[str, Whistle] = {w.id: w for w in whistles}
    frontier = set(found)
    for _ in range(MAX_DEPTH):
        parents = {w.parent_whistle_id for w in found.values() if w.parent_whistle_id} - set(found)
        query = (
            select(Whistle)
            .where(or_(Whistle.parent_whistle_id.in_(frontier), Whistle.id.in_(parents)))
            .options(selectinload(Whistle.assignments))
        )
        new = [w for w in (await session.execute(query)).scalars() if w.id not in found]
        if not new:
            break
        found.update((w.id, w) for w in new)
        frontier = {w.id for w in new}
    return [
        Link(
            whistle_id=w.id,
            parent_whistle_id=w.parent_whistle_id,
            kind=w.kind,
            street_code=w.street_code,
            community_code=w.community_code,
            status=w.status,
            issued_at=w.issued_at,
            units=tuple(a.unit_code for a in w.assignments),
        )
        for w in found.values()
    ]
