"""The versioned snapshot of the routing model, built once per version and served with an ETag.

A snapshot holds every rule and policy version with its effective range, so routing at any moment
needs no new fetch; its `policies` are those in force when it was built. When a scheduled rule or
policy version comes into force the version number stays, but the snapshot is rebuilt and its ETag
gains a suffix (`"v7.1"`), so caches polling with If-None-Match pick up the new `policies`.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry import repository
from services.registry.models import MESSAGING
from shared.city import CityData, CitySnapshot
from shared.city_index import CityIndex
from shared.events import RegistryChanged, utcnow
from shared.geo import Locator
from shared.messaging_tables import Outbox


@dataclass(frozen=True)
class Directory:
    """Names by code, for answers people read."""

    districts: dict[str, str]
    streets: dict[str, tuple[str, str]]
    """street code → (name, kind)"""
    communities: dict[str, str]
    units: dict[str, str]
    """Street units, agencies and district backstops: everything a complaint can be assigned to."""

    @classmethod
    def build(cls, index: CityIndex) -> Directory:
        streets = index.streets.values()
        return cls(
            districts={d.code: d.name for d in index.city.districts},
            streets={s.code: (s.name, s.kind) for s in streets},
            communities={c.code: c.name for s in streets for c in s.communities},
            units={code: name for code, name in index.unit_names.items() if code not in index.departments},
        )


@dataclass
class BuiltSnapshot:
    version: int
    city: CityData
    body: bytes
    etag: str
    valid_until: datetime | None = None
    """When the next scheduled rule or policy version comes into force (rebuild then)."""
    built_at: datetime = field(default_factory=utcnow)

    @cached_property
    def index(self) -> CityIndex:
        return CityIndex.build(self.city, self.version)

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.city)

    @cached_property
    def directory(self) -> Directory:
        return Directory.build(self.index)

    def warm(self) -> None:
        """Build the lookup structures now (off the event loop), not on the first request."""
        _ = self.index, self.locator, self.directory

    def fresh(self, version: int, now: datetime) -> bool:
        return self.version == version and (self.valid_until is None or now < self.valid_until)


def transitions(city: CityData) -> list[datetime]:
    """Every instant a rule or policy version comes into or goes out of force, sorted."""
    ranges = [(r.effective_from, r.effective_to) for r in city.rules]
    ranges += [(p.effective_from, p.effective_to) for p in city.policy_history]
    instants = {t for span in ranges for t in span if t is not None}
    return sorted(instants)


def build(city: CityData, version: int, *, version_made: datetime | None, now: datetime) -> BuiltSnapshot:
    """Serialise a snapshot; the ETag counts the scheduled changes passed since the version was made."""
    instants = transitions(city)
    passed = sum(1 for t in instants if (version_made is None or t > version_made) and t <= now)
    upcoming = [t for t in instants if t > now]
    etag = f'"v{version}.{passed}"' if passed else f'"v{version}"'
    body = CitySnapshot(version=version, city=city).model_dump_json().encode()
    return BuiltSnapshot(version, city, body, etag, valid_until=upcoming[0] if upcoming else None)


class SnapshotBuilder:
    """Keeps the snapshot of the newest version; rebuilt only when the version moves (or a scheduled
    change comes into force).

    The version is looked up in the database at most every `recheck_seconds` (resolve and route
    would otherwise pay a round trip each), and on every request for `recheck_seconds` after a
    write through this process (`written`), so a client reads its own writes at once; a write
    through another replica shows within `recheck_seconds`.
    """

    def __init__(self, *, recheck_seconds: float = 1.0) -> None:
        self.recheck_seconds = recheck_seconds
        self._built: BuiltSnapshot | None = None
        self._checked_at = -math.inf
        self._dirty_until = -math.inf
        self._lock = asyncio.Lock()

    def written(self) -> None:
        """A write is under way here: check the version on every request for a while."""
        self._dirty_until = time.monotonic() + self.recheck_seconds

    async def current(self, sessions: async_sessionmaker[AsyncSession]) -> BuiltSnapshot:
        built = self._built
        clock = time.monotonic()
        if (
            built is not None
            and clock - self._checked_at < self.recheck_seconds
            and clock >= self._dirty_until
            and (built.valid_until is None or utcnow() < built.valid_until)
        ):
            return built
        async with sessions() as session, session.begin():
            version = await repository.current_version(session)
            self._checked_at = clock
            built = self._built
            if built is not None and built.fresh(version, utcnow()):
                return built
            async with self._lock:
                built = self._built
                now = utcnow()
                if built is None or not built.fresh(version, now):
                    city = await repository.load_city(session)
                    made = await repository.version_created_at(session, version)
                    built = await asyncio.to_thread(build, city, version, version_made=made, now=now)
                    await asyncio.to_thread(built.warm)
                    self._built = built
                return built

    async def at(self, session: AsyncSession, at: datetime) -> BuiltSnapshot:
        """The model with the rules and policies in force at `at` (not cached)."""
        version = await repository.current_version(session)
        city = await repository.load_city(session, at=at)
        body = CitySnapshot(version=version, city=city).model_dump_json().encode()
        return BuiltSnapshot(version, city, body, f'"v{version}@{at.isoformat()}"')


async def publish_change(session: AsyncSession, *, reason: str, changed: list[str]) -> int:
    """Bump the snapshot version and emit `registry.changed` in the caller's transaction."""
    version = await repository.bump_version(session, reason, changed)
    await Outbox(MESSAGING.outbox, producer="registry").add(
        session, RegistryChanged(snapshot_version=version, changed=changed), correlation_id="registry"
    )
    return version


async def seed(session: AsyncSession, city: CityData, *, reason: str = "seed") -> int:
    """Replace the city and publish the new snapshot version; returns it."""
    await repository.lock_for_write(session)
    await repository.replace_city(session, city)
    return await publish_change(session, reason=reason, changed=["city"])
