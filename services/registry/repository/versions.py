"""Snapshot versions and the registry's write lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import models as m


async def lock_for_write(session: AsyncSession) -> None:
    """Serialise registry writes: each validates against the state the previous one committed."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('registry.write'))"))


async def current_version(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(func.coalesce(func.max(m.SnapshotVersion.version), 0)))).scalar_one()
    )


async def bump_version(session: AsyncSession, reason: str, changed: Sequence[str] = ()) -> int:
    version = await current_version(session) + 1
    session.add(m.SnapshotVersion(version=version, reason=reason, changed=list(changed)))
    await session.flush()
    return version


async def version_created_at(session: AsyncSession, version: int) -> datetime | None:
    query = select(m.SnapshotVersion.created_at).where(m.SnapshotVersion.version == version)
    return (await session.execute(query)).scalar_one_or_none()


async def is_seeded(session: AsyncSession) -> bool:
    return (await session.execute(select(m.District.code).limit(1))).first() is not None
