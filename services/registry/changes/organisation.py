"""Creating, changing and retiring departments, agencies, categories and the street duty list.

Most of what can go wrong here is caught by the structure check of `flow.write`: a department
whose parent is unknown or makes a cycle, an agency serving a street outside its district, a
department rule left without a serving agency for some street, a duty item naming an unknown
category, or a street-unit rule whose category falls off the duty list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.changes.flow import Problems, get_live, live_reference, must_be_new, retire, write
from services.registry.city_validation import validate_category
from services.registry.schemas import (
    AgencyIn,
    AgencyPatch,
    CategoryIn,
    CategoryPatch,
    DepartmentIn,
    DepartmentPatch,
    DutyBlockIn,
    DutyBlockPatch,
    DutyItemIn,
    DutyItemPatch,
)
from shared.city import Category

Written = tuple[Any, int]


async def _next_position(session: AsyncSession, column: Any) -> int:
    return int((await session.execute(select(func.coalesce(func.max(column), -1)))).scalar_one()) + 1


# --- departments and agencies ------------------------------------------------------------------------


async def create_department(session: AsyncSession, body: DepartmentIn) -> Written:
    async def apply(problems: Problems) -> m.Department:
        await must_be_new(session, problems, m.Department, body.code, "department")
        row = m.Department(
            code=body.code, name=body.name, kind=body.kind, level=body.level, parent_code=body.parent
        )
        if not problems:
            session.add(row)
        return row

    return await write(
        session,
        changed="departments",
        reason=f"department {body.code} created",
        apply=apply,
        focus=lambda row: f"departments[{row.code}]",
    )


async def update_department(session: AsyncSession, code: str, body: DepartmentPatch) -> Written:
    async def apply(problems: Problems) -> m.Department:
        row = await get_live(session, m.Department, code, "department")
        for field in ("name", "kind", "level"):
            if getattr(body, field) is not None:
                setattr(row, field, getattr(body, field))
        if "parent" in body.model_fields_set:
            row.parent_code = body.parent
        return row

    return await write(
        session,
        changed="departments",
        reason=f"department {code} updated",
        apply=apply,
        focus=lambda row: f"departments[{row.code}]",
    )


async def retire_department(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.Department:
        row = await get_live(session, m.Department, code, "department")
        retire(row, f"department {code!r}")
        return row

    return await write(session, changed="departments", reason=f"department {code} retired", apply=apply)


async def create_agency(session: AsyncSession, body: AgencyIn) -> Written:
    async def apply(problems: Problems) -> m.Agency:
        await must_be_new(session, problems, m.Agency, body.code, "agency")
        await live_reference(session, problems, m.Department, body.department, "department", "department")
        await live_reference(session, problems, m.District, body.district, "district", "district")
        row = m.Agency(
            code=body.code,
            department_code=body.department,
            district_code=body.district,
            name=body.name,
            serves=list(dict.fromkeys(body.serves)),
        )
        if not problems:
            session.add(row)
        return row

    return await write(
        session,
        changed="agencies",
        reason=f"agency {body.code} created",
        apply=apply,
        focus=lambda row: f"departments[{row.department_code}].agencies[{row.code}]",
    )


async def update_agency(session: AsyncSession, code: str, body: AgencyPatch) -> Written:
    async def apply(problems: Problems) -> m.Agency:
        row = await get_live(session, m.Agency, code, "agency")
        if body.name is not None:
            row.name = body.name
        if body.serves is not None:
            row.serves = list(dict.fromkeys(body.serves))
        return row

    return await write(
        session,
        changed="agencies",
        reason=f"agency {code} updated",
        apply=apply,
        focus=lambda row: f"departments[{row.department_code}].agencies[{row.code}]",
    )


async def retire_agency(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.Agency:
        row = await get_live(session, m.Agency, code, "agency")
        retire(row, f"agency {code!r}")
        return row

    return await write(session, changed="agencies", reason=f"agency {code} retired", apply=apply)


# --- categories --------------------------------------------------------------------------------------


def _category_problems(problems: Problems, category: Category) -> None:
    for problem in validate_category(category, "category"):
        problems.add(problem.path.removeprefix("category."), problem.message)


async def create_category(session: AsyncSession, body: CategoryIn) -> Written:
    async def apply(problems: Problems) -> m.Category:
        await must_be_new(session, problems, m.Category, body.code, "category")
        _category_problems(problems, Category.model_validate(body.model_dump()))
        row = m.Category(
            **body.model_dump(exclude={"attributes"}),
            attributes=[a.model_dump() for a in body.attributes],
            position=await _next_position(session, m.Category.position),
        )
        if not problems:
            session.add(row)
        return row

    return await write(session, changed="categories", reason=f"category {body.code} created", apply=apply)


async def update_category(session: AsyncSession, code: str, body: CategoryPatch) -> Written:
    async def apply(problems: Problems) -> m.Category:
        row = await get_live(session, m.Category, code, "category")
        for field in ("name", "name_en", "group", "description", "keywords", "urgency"):
            if getattr(body, field) is not None:
                setattr(row, field, getattr(body, field))
        if body.attributes is not None:
            row.attributes = [a.model_dump() for a in body.attributes]
            category = Category(code=row.code, name=row.name, attributes=body.attributes)
            _category_problems(problems, category)
        return row

    return await write(session, changed="categories", reason=f"category {code} updated", apply=apply)


async def retire_category(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.Category:
        row = await get_live(session, m.Category, code, "category")
        retire(row, f"category {code!r}")
        return row

    return await write(session, changed="categories", reason=f"category {code} retired", apply=apply)


# --- the duty list -----------------------------------------------------------------------------------


async def create_duty_block(session: AsyncSession, body: DutyBlockIn) -> Written:
    async def apply(problems: Problems) -> m.DutyBlock:
        await must_be_new(session, problems, m.DutyBlock, body.code, "duty block")
        position = await _next_position(session, m.DutyBlock.position)
        row = m.DutyBlock(code=body.code, name=body.name, position=position)
        if not problems:
            session.add(row)
        return row

    return await write(session, changed="duty-list", reason=f"duty block {body.code} created", apply=apply)


async def update_duty_block(session: AsyncSession, code: str, body: DutyBlockPatch) -> Written:
    async def apply(problems: Problems) -> m.DutyBlock:
        row = await get_live(session, m.DutyBlock, code, "duty block")
        if body.name is not None:
            row.name = body.name
        if body.position is not None:
            row.position = body.position
        return row

    return await write(session, changed="duty-list", reason=f"duty block {code} updated", apply=apply)


async def retire_duty_block(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.DutyBlock:
        row = await get_live(session, m.DutyBlock, code, "duty block")
        retire(row, f"duty block {code!r}")
        return row

    return await write(session, changed="duty-list", reason=f"duty block {code} retired", apply=apply)


def _item_focus(row: m.DutyItem) -> str:
    return f"duty_list[{row.block_code}].items[{row.code}]"


async def create_duty_item(session: AsyncSession, body: DutyItemIn) -> Written:
    async def apply(problems: Problems) -> m.DutyItem:
        await must_be_new(session, problems, m.DutyItem, body.code, "duty item")
        await live_reference(session, problems, m.DutyBlock, body.block, "block", "duty block")
        in_block = select(func.coalesce(func.max(m.DutyItem.position), -1)).where(
            m.DutyItem.block_code == body.block
        )
        position = int((await session.execute(in_block)).scalar_one()) + 1
        row = m.DutyItem(
            code=body.code,
            block_code=body.block,
            name=body.name,
            categories=list(dict.fromkeys(body.categories)),
            position=position,
        )
        if not problems:
            session.add(row)
        return row

    return await write(
        session,
        changed="duty-list",
        reason=f"duty item {body.code} created",
        apply=apply,
        focus=_item_focus,
    )


async def update_duty_item(session: AsyncSession, code: str, body: DutyItemPatch) -> Written:
    async def apply(problems: Problems) -> m.DutyItem:
        row = await get_live(session, m.DutyItem, code, "duty item")
        if body.name is not None:
            row.name = body.name
        if body.categories is not None:
            row.categories = list(dict.fromkeys(body.categories))
        return row

    return await write(
        session, changed="duty-list", reason=f"duty item {code} updated", apply=apply, focus=_item_focus
    )


async def retire_duty_item(session: AsyncSession, code: str) -> Written:
    async def apply(problems: Problems) -> m.DutyItem:
        row = await get_live(session, m.DutyItem, code, "duty item")
        retire(row, f"duty item {code!r}")
        return row

    return await write(session, changed="duty-list", reason=f"duty item {code} retired", apply=apply)
