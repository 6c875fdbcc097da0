"""How every registry write runs: serialised, checked before it counts, versioned and announced.

    lock → structure before → apply (its own problems: 422) → structure after (new problems: 422)
         → bump the snapshot version + `registry.changed` in the outbox

All in the caller's transaction: a 422 rolls everything back, so nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository
from services.registry.city_validation import Problem
from services.registry.guards import as_errors, introduced, structure_problems
from services.registry.snapshots import publish_change
from shared.city import CityData
from shared.errors import Conflict, NotFound, Unprocessable
from shared.events import utcnow
from shared.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")


class Problems(list[Problem]):
    """Problems an entity's own checks found, with paths relative to the request body."""

    def add(self, path: str, message: str) -> None:
        self.append(Problem(path, message))


async def _structure(session: AsyncSession, now: datetime) -> tuple[CityData, list[Problem]]:
    city = await repository.load_city(session, geometry=False, rules_not_ended=now)
    orphans = [Problem(path, message) for path, message in await repository.orphans(session)]
    return city, structure_problems(city) + orphans


async def write(
    session: AsyncSession,
    *,
    changed: str,
    reason: str,
    apply: Callable[[Problems], Awaitable[T]],
    focus: Callable[[T], str | None] = lambda _: None,
) -> tuple[T, int]:
    """Run `apply` as one checked, versioned change; returns its result and the new version.

    `apply` records problems with the request itself in the `Problems` it is given (they are
    reported as they are) and otherwise makes its change; `focus` names the written entity's path in
    the city (`departments[cgw]`) so the structure's problems about it read relative to the body.
    """
    await repository.lock_for_write(session)
    now = utcnow()
    before = await _structure(session, now)
    own = Problems()
    result = await apply(own)
    if own:
        raise Unprocessable(
            f"the {changed} change is not valid",
            errors=[{"field": p.path, "message": p.message} for p in own],
        )
    await session.flush()
    after = await _structure(session, now)
    new = introduced(before, after)
    if new:
        raise Unprocessable(
            f"the {changed} change would break the registry's rules: {new[0].message}"
            + (f" (and {len(new) - 1} more)" if len(new) > 1 else ""),
            errors=as_errors(new, after[0], focus(result)),
        )
    version = await publish_change(session, reason=reason, changed=[changed])
    log.info("registry.changed", changed=changed, reason=reason, snapshot_version=version)
    return result, version


async def get_row(session: AsyncSession, model: type[T], key: Any, what: str) -> T:
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key!r}")
    return row


async def get_live(session: AsyncSession, model: type[T], key: Any, what: str) -> T:
    row = await get_row(session, model, key, what)
    if getattr(row, "retired_at", None) is not None:
        raise Conflict(f"{what} {key!r} is retired")
    return row


async def must_be_new(
    session: AsyncSession, problems: Problems, model: type[Any], key: Any, what: str, path: str = "code"
) -> None:
    """A problem at `path` when the key is taken (retired rows keep theirs: codes are never reused)."""
    existing = await session.get(model, key)
    if existing is not None:
        retired = " (retired; codes are never reused)" if getattr(existing, "retired_at", None) else ""
        problems.add(path, f"{what} {key!r} already exists{retired}")


async def live_reference(
    session: AsyncSession, problems: Problems, model: type[Any], key: Any, path: str, what: str
) -> Any | None:
    """The live row a request names, or a problem at `path`."""
    row = await session.get(model, key)
    if row is None:
        problems.add(path, f"unknown {what} {key!r}")
        return None
    if getattr(row, "retired_at", None) is not None:
        problems.add(path, f"{what} {key!r} is retired")
        return None
    return row


def retire(row: Any, what: str) -> None:
    if row.retired_at is not None:
        raise Conflict(f"{what} is already retired")
    row.retired_at = utcnow()
