"""What intake's endpoints and handlers share: the snapshot, the cipher, the outbox, the policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request

from services.intake.city_view import CityView, CityViews
from services.intake.pii import PiiCipher
from services.intake.settings import IntakeSettings
from shared.errors import Unavailable
from shared.geo import Locator
from shared.messaging_tables import Outbox
from shared.snapshot_cache import SnapshotCache


@dataclass(frozen=True)
class MergePolicy:
    distance_meters: float = 50.0
    window: timedelta = timedelta(hours=24)

    @property
    def enabled(self) -> bool:
        return self.distance_meters > 0


def city_timezone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(hours=8), "CST")


@dataclass
class IntakeContext:
    cache: SnapshotCache
    cipher: PiiCipher
    outbox: Outbox
    merge: MergePolicy = field(default_factory=MergePolicy)
    tz: tzinfo = field(default_factory=lambda: city_timezone("Asia/Shanghai"))
    jurisdiction_id: str | None = None
    contact: str = "12345 citizen hotline"
    public_reads: bool = False
    settle_seconds: float = 5.0
    views: CityViews = field(default_factory=CityViews)

    @classmethod
    def from_settings(cls, settings: IntakeSettings, cache: SnapshotCache, outbox: Outbox) -> IntakeContext:
        return cls(
            cache=cache,
            cipher=PiiCipher(settings.pii_keys),
            outbox=outbox,
            merge=MergePolicy(settings.merge_distance_meters, timedelta(hours=settings.merge_window_hours)),
            tz=city_timezone(settings.timezone),
            jurisdiction_id=settings.open311_jurisdiction_id,
            contact=settings.open311_contact,
            public_reads=settings.open311_public_reads,
            settle_seconds=settings.open311_settle_seconds,
        )

    def view(self) -> CityView:
        current = self.cache.current
        if current is None:
            raise Unavailable("the city's registry snapshot is not loaded yet")
        return self.views.of(current.index)

    def locator(self) -> Locator:
        if self.cache.locator is None:
            raise Unavailable("the city's registry snapshot is not loaded yet")
        return self.cache.locator

    def view_or_none(self) -> CityView | None:
        current = self.cache.current
        return self.views.of(current.index) if current is not None else None


def get_context(request: Request) -> IntakeContext:
    return request.app.state.intake


async def context_dependency(request: Request) -> IntakeContext:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request
    return get_context(request)
