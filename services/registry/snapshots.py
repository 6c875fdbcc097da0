"""The versioned snapshot of the routing model, built once per version and served with an ETag."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository
from services.registry.models import MESSAGING
from shared.city import CityData, CitySnapshot
from shared.events import RegistryChanged
from shared.messaging_tables import Outbox


@dataclass(frozen=True)
class BuiltSnapshot:
    version: int
    body: bytes

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'


class SnapshotBuilder:
    """Keeps the serialised snapshot of the newest version; rebuilt only when the version moves."""

    def __init__(self) -> None:
        self._built: BuiltSnapshot | None = None

    async def current(self, session: AsyncSession) -> BuiltSnapshot:
        version = await repository.current_version(session)
        if self._built is None or self._built.version != version:
            city = await repository.load_city(session)
            body = CitySnapshot(version=version, city=city).model_dump_json().encode()
            self._built = BuiltSnapshot(version, body)
        return self._built


async def seed(session: AsyncSession, city: CityData, *, reason: str = "seed") -> int:
    """Replace the city and publish the new snapshot version; returns it."""
    await repository.replace_city(session, city)
    version = await repository.bump_version(session, reason)
    await Outbox(MESSAGING.outbox, producer="registry").add(
        session, RegistryChanged(snapshot_version=version, changed=["city"]), correlation_id="registry"
    )
    return version
