"""SQL of upkeep: emptying what a rebuild makes again."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DERIVED = ("whistles", "complaint_facts", "clocks", "timers", "measures", "inbox")
"""Everything SLA derives from the topics. Evaluations, closed periods with their published scores,
the audit log and the outbox are kept: no topic holds them."""


async def empty_derived(session: AsyncSession) -> None:
    await session.execute(text(f"TRUNCATE {', '.join(f'sla.{t}' for t in DERIVED)}"))
