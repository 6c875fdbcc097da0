"""Creating, changing and retiring the community duty list (社区工作准入清单), versioned like the
street duty list: every change bumps the snapshot version, retired entries stay (codes are never
reused). The structure check of `flow.write` refuses a change that leaves a rule handing a matter
to community committees that is no longer on the list, or an item naming an unknown category."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.changes.flow import Problems, get_live, live_reference, must_be_new, retire, write
from services.registry.schemas import DutyBlockIn, DutyBlockPatch, DutyItemIn, DutyItemPatch

Written = tuple[Any, int]
CHANGED = "community-duty-list"


async def create_block(session: AsyncSession, body: DutyBlockIn) -> Written:
    async def apply(problems: Problems) -> m.CommunityDutyBlock:
        await must_be_new(session, problems, m.CommunityDutyBlock, body.code, "community duty block")
        last = select(func.coalesce(func.max(m.CommunityDutyBlock.position), -1))
        position = int((await session.execute(last)).scalar_one()) + 1
        row = m.CommunityDutyBlock(code=body.code, name=body.name, position=position)
        if not problems:
            session.add(row)
        return row

    return await write(
        session, changed=CHANGED, reason=f"community duty block {body.code} created", apply=apply
    )


async def update_block(session: AsyncSession, code: str, body: DutyBlockPatch) -> Written:
    async def apply(problems: Problems) -> m.CommunityDutyBlock:
        row = await get_live(session, m.CommunityDutyBlock, code, "community duty block")
        if body.name is not None:
            row.name = body.name
        if body.position is not None:
            row.position = body.position
        return row

    return await write(session, changed=CHANGED, reason=f"community duty block {code} updated", apply=apply)


async def retire_block(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.CommunityDutyBlock:
        row = await get_live(session, m.CommunityDutyBlock, code, "community duty block")
        retire(row, f"community duty block {code!r}")
        return row

    return await write(session, changed=CHANGED, reason=f"community duty block {code} retired", apply=apply)


def _item_focus(row: m.CommunityDutyItem) -> str:
    return f"community_duty_list[{row.block_code}].items[{row.code}]"


async def create_item(session: AsyncSession, body: DutyItemIn) -> Written:
    async def apply(problems: Problems) -> m.CommunityDutyItem:
        await must_be_new(session, problems, m.CommunityDutyItem, body.code, "community duty item")
        await live_reference(
            session, problems, m.CommunityDutyBlock, body.block, "block", "community duty block"
        )
        last = select(func.coalesce(func.max(m.CommunityDutyItem.position), -1)).where(
            m.CommunityDutyItem.block_code == body.block
        )
        row = m.CommunityDutyItem(
            code=body.code,
            block_code=body.block,
            name=body.name,
            categories=list(dict.fromkeys(body.categories)),
            position=int((await session.execute(last)).scalar_one()) + 1,
        )
        if not problems:
            session.add(row)
        return row

    return await write(
        session,
        changed=CHANGED,
        reason=f"community duty item {body.code} created",
        apply=apply,
        focus=_item_focus,
    )


async def update_item(session: AsyncSession, code: str, body: DutyItemPatch) -> Written:
    async def apply(problems: Problems) -> m.CommunityDutyItem:
        row = await get_live(session, m.CommunityDutyItem, code, "community duty item")
        if body.name is not None:
            row.name = body.name
        if body.categories is not None:
            row.categories = list(dict.fromkeys(body.categories))
        return row

    return await write(
        session, changed=CHANGED, reason=f"community duty item {code} updated", apply=apply, focus=_item_focus
    )


async def retire_item(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.CommunityDutyItem:
        row = await get_live(session, m.CommunityDutyItem, code, "community duty item")
        retire(row, f"community duty item {code!r}")
        return row

    return await write(session, changed=CHANGED, reason=f"community duty item {code} retired", apply=apply)
