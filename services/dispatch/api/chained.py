"""Whistles as the API shows them, each with the chain it is part of (community → street →
departments) and its escalation steps."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.api.views import whistle_out
from services.dispatch.chains import chain
from services.dispatch.models import Whistle
from services.dispatch.repository import chains as chain_rows
from services.dispatch.repository import escalations as step_rows
from services.dispatch.schemas import ChainLinkOut, WhistleOut
from shared.access import Principal


async def whistles_out(
    session: AsyncSession, found: Sequence[Whistle], principal: Principal | None
) -> list[WhistleOut]:
    steps = await step_rows.steps_of(session, [w.id for w in found])
    linked = [w for w in found if w.parent_whistle_id is not None or w.kind == "community_whistle"]
    links = await chain_rows.links_around(session, linked) if linked else []
    answered = {link.parent_whistle_id for link in links}
    out = []
    for w in found:
        view = whistle_out(w, principal=principal, steps=steps)
        path = chain(w.id, links) if (w.parent_whistle_id or w.id in answered) else []
        out.append(
            view.model_copy(
                update={
                    "parent_whistle_id": w.parent_whistle_id,
                    "community_code": w.community_code,
                    "chain": [
                        ChainLinkOut(
                            whistle_id=link.whistle_id,
                            parent_whistle_id=link.parent_whistle_id,
                            kind=link.kind,
                            street_code=link.street_code,
                            community_code=link.community_code,
                            status=link.status,
                            issued_at=link.issued_at,
                            units=list(link.units),
                        )
                        for link in path
                    ],
                }
            )
        )
    return out
