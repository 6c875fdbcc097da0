"""Versioned changes: routing rules, SLA and scoring policies, and the work calendar's overrides.

Rules and policies are never edited in place once in force. A change ends the version in force at
the change's `effective_from` (default now) and starts a new one that `supersedes` it; retiring
sets `effective_to`. A version that has not come into force yet is withdrawn by giving it an empty
range (`effective_to == effective_from`). History is never rewritten: `effective_from` may not lie
in the past (beyond a few minutes of clock skew).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m
from services.registry.changes.flow import Problems, get_live, get_row, live_reference, retire, write
from services.registry.city_validation import validate_scoring
from services.registry.repository import in_force_at
from services.registry.schemas import (
    CalendarOverrideIn,
    DispatchPolicyIn,
    RuleIn,
    RulePatch,
    ScoringPolicyIn,
    SlaPolicyIn,
    StructurePolicyIn,
)
from shared.city import DispatchPolicy, ScoringPolicy, StructurePolicy, Urgency
from shared.errors import Conflict
from shared.events import utcnow

Written = tuple[Any, int]
CLOCK_SKEW = timedelta(minutes=5)
_STREET_UNIT_FIELDS = ("street_unit_kind", "street_unit")
_DEPARTMENT_FIELDS = ("lead", "co")
_COMMITTEE_FIELDS = ("community_committee",)


def _start(
    problems: Problems, requested: datetime | None, now: datetime, path: str = "effective_from"
) -> datetime:
    start = requested or now
    if start < now - CLOCK_SKEW:
        problems.add(
            path,
            f"{path} {start.isoformat()} is in the past: a change applies from now on, "
            "so past complaints stay judged by the rules of their time",
        )
    return start


def _rule_focus(row: m.Rule) -> str:
    return f"rules[#{row.id}]"


# --- rules -------------------------------------------------------------------------------------------


async def create_rule(session: AsyncSession, body: RuleIn) -> Written:
    async def apply(problems: Problems) -> m.Rule:
        now = utcnow()
        start = _start(problems, body.effective_from, now)
        await live_reference(session, problems, m.Category, body.category, "category", "category")
        row = m.Rule(
            category=body.category,
            district=body.district,
            street=body.street,
            street_unit_kind=body.street_unit_kind,
            street_unit=body.street_unit,
            community_committee=body.community_committee,
            lead=body.lead,
            co=list(body.co),
            effective_from=start,
            effective_to=body.effective_to,
        )
        if not problems:
            session.add(row)
            await session.flush()
        return row

    return await write(
        session,
        changed="rules",
        reason=f"rule for {body.category} created",
        apply=apply,
        focus=_rule_focus,
    )


def new_target(old: m.Rule, body: RulePatch) -> dict[str, Any]:
    """The old target with the patch applied; naming a lead drops the street unit and vice versa."""
    fields = (*_STREET_UNIT_FIELDS, *_DEPARTMENT_FIELDS, *_COMMITTEE_FIELDS)
    given = {f: getattr(body, f) for f in body.model_fields_set if f in fields}
    target: dict[str, Any] = {f: getattr(old, f) for f in fields}
    if given.get("lead"):
        target.update(street_unit_kind=None, street_unit=None, community_committee=False)
    if given.get("street_unit_kind") or given.get("street_unit"):
        target.update(lead=None, co=[], community_committee=False)
    if given.get("community_committee"):
        target.update(lead=None, co=[], street_unit_kind=None, street_unit=None)
    target.update(given)
    if not target.pop("community_committee"):
        return target | {"co": list(target["co"] or [])}
    target["community_committee"] = True
    target["co"] = list(target["co"] or [])
    return target


async def update_rule(session: AsyncSession, rule_id: int, body: RulePatch) -> Written:
    """A new version of the rule from `effective_from` (default now); the old version ends then."""

    async def apply(problems: Problems) -> m.Rule:
        old = await get_row(session, m.Rule, rule_id, "rule")
        now = utcnow()
        start = _start(problems, body.effective_from, now)
        if old.effective_to is not None and old.effective_to <= start:
            raise Conflict(f"rule #{rule_id} is no longer in force from {start.isoformat()}")
        if old.effective_from is not None and start < old.effective_from:
            problems.add(
                "effective_from", f"rule #{rule_id} only comes into force at {old.effective_from.isoformat()}"
            )
        new = m.Rule(
            category=old.category,
            district=old.district,
            street=old.street,
            **new_target(old, body),
            effective_from=start,
            effective_to=old.effective_to,
            supersedes=old.id,
        )
        if not problems:
            old.effective_to = start
            session.add(new)
            await session.flush()
        return new

    return await write(
        session, changed="rules", reason=f"rule #{rule_id} superseded", apply=apply, focus=_rule_focus
    )


async def retire_rule(session: AsyncSession, rule_id: int, at: datetime | None = None) -> Written:
    """The rule stops at `at` (default now); one not yet in force is withdrawn."""

    async def apply(problems: Problems) -> m.Rule:
        row = await get_row(session, m.Rule, rule_id, "rule")
        now = utcnow()
        end = _start(problems, at, now, "at")
        if row.effective_to is not None and row.effective_to <= end:
            raise Conflict(f"rule #{rule_id} already ended at {row.effective_to.isoformat()}")
        if row.effective_from is not None and end < row.effective_from:
            end = row.effective_from
        row.effective_to = end
        return row

    return await write(session, changed="rules", reason=f"rule #{rule_id} retired", apply=apply)


# --- policies ----------------------------------------------------------------------------------------


async def _put_policy(
    session: AsyncSession,
    problems: Problems,
    *,
    kind: str,
    urgency: str | None,
    body: dict[str, Any],
    effective_from: datetime | None,
) -> m.Policy:
    now = utcnow()
    start = _start(problems, effective_from, now)
    same = select(m.Policy).where(
        m.Policy.kind == kind, m.Policy.urgency.is_(None) if urgency is None else m.Policy.urgency == urgency
    )
    later = same.where(
        m.Policy.effective_from > start, m.Policy.effective_to.is_distinct_from(m.Policy.effective_from)
    )
    for row in (await session.execute(later)).scalars():
        problems.add(
            "effective_from",
            f"policy version #{row.id} is scheduled from {row.effective_from}; retire it first",
        )
    current = (await session.execute(same.where(in_force_at(m.Policy, start)))).scalars().first()
    new = m.Policy(
        kind=kind,
        urgency=urgency,
        body=body,
        effective_from=start,
        effective_to=None,
        supersedes=current.id if current is not None else None,
    )
    if not problems:
        if current is not None:
            current.effective_to = start
        session.add(new)
        await session.flush()
    return new


async def put_sla_policy(session: AsyncSession, urgency: Urgency, body: SlaPolicyIn) -> Written:
    async def apply(problems: Problems) -> m.Policy:
        return await _put_policy(
            session,
            problems,
            kind="sla",
            urgency=urgency,
            body=body.model_dump(exclude={"effective_from"}),
            effective_from=body.effective_from,
        )

    return await write(session, changed="policies", reason=f"SLA policy for {urgency} changed", apply=apply)


async def put_scoring_policy(session: AsyncSession, body: ScoringPolicyIn) -> Written:
    async def apply(problems: Problems) -> m.Policy:
        weights = ScoringPolicy.model_validate(body.model_dump(exclude={"effective_from"}))
        for problem in validate_scoring(weights, "scoring"):
            problems.add(problem.path.removeprefix("scoring").lstrip(".") or "body", problem.message)
        return await _put_policy(
            session,
            problems,
            kind="scoring",
            urgency=None,
            body=weights.model_dump(),
            effective_from=body.effective_from,
        )

    return await write(session, changed="policies", reason="scoring policy changed", apply=apply)


async def put_dispatch_policy(session: AsyncSession, body: DispatchPolicyIn) -> Written:
    async def apply(problems: Problems) -> m.Policy:
        policy = DispatchPolicy.model_validate(body.model_dump(exclude={"effective_from"}))
        return await _put_policy(
            session,
            problems,
            kind="dispatch",
            urgency=None,
            body=policy.model_dump(),
            effective_from=body.effective_from,
        )

    return await write(session, changed="policies", reason="dispatch policy changed", apply=apply)


async def put_structure_policy(session: AsyncSession, body: StructurePolicyIn) -> Written:
    async def apply(problems: Problems) -> m.Policy:
        policy = StructurePolicy.model_validate(body.model_dump(exclude={"effective_from"}))
        return await _put_policy(
            session,
            problems,
            kind="structure",
            urgency=None,
            body=policy.model_dump(),
            effective_from=body.effective_from,
        )

    return await write(session, changed="policies", reason="structure standards changed", apply=apply)


async def retire_policy(session: AsyncSession, policy_id: int) -> Written:
    """Withdraw a version scheduled for later; the one it superseded stays in force as before."""

    async def apply(problems: Problems) -> m.Policy:
        row = await get_row(session, m.Policy, policy_id, "policy version")
        now = utcnow()
        if row.effective_from is None or row.effective_from <= now:
            raise Conflict(
                f"policy version #{policy_id} is in force or past: put a new version instead "
                "(every urgency needs an SLA policy, and the scoring policy must stay)"
            )
        if row.effective_to == row.effective_from:
            raise Conflict(f"policy version #{policy_id} is already withdrawn")
        if row.supersedes is not None:
            previous = await get_row(session, m.Policy, row.supersedes, "policy version")
            if previous.effective_to == row.effective_from:
                previous.effective_to = row.effective_to
        row.effective_to = row.effective_from
        return row

    return await write(
        session, changed="policies", reason=f"policy version #{policy_id} withdrawn", apply=apply
    )


# --- the work calendar -------------------------------------------------------------------------------


async def put_calendar_override(session: AsyncSession, day: date, body: CalendarOverrideIn) -> Written:
    async def apply(problems: Problems) -> m.CalendarOverride:
        row = await session.get(m.CalendarOverride, day)
        if row is None:
            row = m.CalendarOverride(day=day, workday=body.workday, name=body.name)
            session.add(row)
        else:
            row.workday, row.name, row.retired_at = body.workday, body.name, None
        return row

    return await write(session, changed="calendar", reason=f"calendar override for {day} set", apply=apply)


async def retire_calendar_override(session: AsyncSession, day: date) -> Written:
    async def apply(problems: Problems) -> m.CalendarOverride:
        row = await get_live(session, m.CalendarOverride, day, "calendar override")
        retire(row, f"the override for {day}")
        return row

    return await write(
        session, changed="calendar", reason=f"calendar override for {day} retired", apply=apply
    )
