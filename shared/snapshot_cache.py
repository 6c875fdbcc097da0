"""A service's copy of the registry's city model, refreshed on `registry.changed`.

The copy is one immutable `CityCopy` (snapshot, routing index, locator) swapped in with a single
assignment, so a reader holding `cache.current` sees one version throughout; a version only ever
replaces an older one. Loaded over HTTP at start (retrying until the registry answers) with one
long-lived HTTP client; `If-None-Match` makes a refresh that finds nothing new cheap. The follower
reads `registry.changes` and survives every error (and runs supervised besides). Readiness fails
until a copy is loaded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from shared.auth import ClientCredentials
from shared.city import CitySnapshot
from shared.city_index import CityIndex
from shared.consumer_decisions import backoff_seconds
from shared.errors import Unavailable
from shared.events import REGISTRY_CHANGES, Envelope, utcnow
from shared.geo import Locator
from shared.logging import get_logger
from shared.settings import ServiceSettings

log = get_logger(__name__)


@dataclass(frozen=True)
class CityCopy:
    snapshot: CitySnapshot
    index: CityIndex
    locator: Locator

    @property
    def version(self) -> int:
        return self.snapshot.version

    @classmethod
    def build(cls, snapshot: CitySnapshot) -> CityCopy:
        return cls(snapshot, CityIndex.build(snapshot.city, snapshot.version), Locator(snapshot.city))


class SnapshotCache:
    ready_name = "registry_snapshot"

    def __init__(self, registry_url: str, *, token_provider: Any = None) -> None:
        self.registry_url = registry_url.rstrip("/")
        self.token_provider = token_provider
        self.current: CityCopy | None = None
        self._etag: str | None = None
        self.checked_at: datetime | None = None  # when the registry last confirmed our copy current
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    # Readers that need one consistent version take `current` once; these are conveniences.
    @property
    def snapshot(self) -> CitySnapshot | None:
        return self.current.snapshot if self.current else None

    @property
    def index(self) -> CityIndex | None:
        return self.current.index if self.current else None

    @property
    def locator(self) -> Locator | None:
        return self.current.locator if self.current else None

    @property
    def version(self) -> int:
        return self.current.version if self.current else 0

    def require(self) -> CityCopy:
        """The copy, or Unavailable (to a consumer: a transient fault, retried)."""
        current = self.current
        if current is None:
            raise Unavailable("the registry snapshot is not loaded yet")
        return current

    def install(self, snapshot: CitySnapshot) -> bool:
        """Build and swap in a copy of this snapshot unless ours is as new; True if installed."""
        if self.current is not None and snapshot.version <= self.current.version:
            return False
        built = CityCopy.build(snapshot)
        if self.current is not None and built.version <= self.current.version:
            return False  # a newer one was installed while this one was built
        self.current = built
        return True

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=30)
        return self._client

    async def refresh(self) -> bool:
        """Fetch the current snapshot; True if a newer version was installed."""
        async with self._lock:
            asked_at = utcnow()
            headers = {"If-None-Match": self._etag} if self._etag and self.current else {}
            if self.token_provider is not None:
                headers["Authorization"] = f"Bearer {await self.token_provider()}"
            response = await self._http().get(f"{self.registry_url}/v1/snapshot", headers=headers)
            if response.status_code == 304:
                self.checked_at = asked_at
                return False
            response.raise_for_status()
            snapshot = await asyncio.to_thread(CitySnapshot.model_validate_json, response.content)
            installed = await asyncio.to_thread(self.install, snapshot)
            self._etag = response.headers.get("etag")
            self.checked_at = asked_at
            if installed:
                log.info("snapshot.loaded", version=snapshot.version)
            return installed

    async def load_until_ready(self, stop: asyncio.Event | None = None) -> None:
        failures = 0
        while self.current is None and not (stop and stop.is_set()):
            try:
                await self.refresh()
            except Exception as exc:
                failures += 1
                log.info("snapshot.waiting_for_registry", error=repr(exc)[:200])
                await asyncio.sleep(backoff_seconds(failures, base=0.2, ceiling=3.0))

    def bind_credentials(self, settings: ServiceSettings) -> None:
        if self.token_provider is None and settings.registry_client_id and settings.registry_client_secret:
            self.token_provider = ClientCredentials(
                settings.registry_url, settings.registry_client_id, settings.registry_client_secret
            )

    async def load_on_start(self, runtime: Any) -> None:
        """A runtime start hook: wait for the snapshot before consumers start routing."""
        self.bind_credentials(runtime.settings)
        await self.load_until_ready()

    async def follow(self, runtime: Any, stop: asyncio.Event, *, poll_seconds: float = 30) -> None:
        """Keep the copy current: every replica reads `registry.changes` itself (no consumer group),
        and polls with If-None-Match in case an event was missed. Errors are logged and waited out."""
        self.bind_credentials(runtime.settings)
        await self.load_until_ready(stop)
        consumer: AIOKafkaConsumer | None = None
        last_poll = time.monotonic()
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if consumer is None:
                        consumer = AIOKafkaConsumer(
                            REGISTRY_CHANGES,
                            bootstrap_servers=runtime.settings.bootstrap_servers,
                            group_id=None,
                            auto_offset_reset="latest",
                            enable_auto_commit=False,
                            fetch_max_wait_ms=500,
                        )
                        await consumer.start()
                    batch = await consumer.getmany(timeout_ms=1000)
                    newest = max(
                        (_version(r.value) for records in batch.values() for r in records), default=None
                    )
                    if (newest is not None and newest > self.version) or (
                        time.monotonic() - last_poll >= poll_seconds
                    ):
                        last_poll = time.monotonic()
                        await self.refresh()
                    failures = 0
                except Exception as exc:
                    failures += 1
                    log.warning("snapshot.follow_failed", error=repr(exc)[:300])
                    if consumer is not None and failures > 3:
                        await _stop_quietly(consumer)
                        consumer = None
                    await asyncio.sleep(backoff_seconds(failures, base=0.5, ceiling=10))
        finally:
            if consumer is not None:
                await _stop_quietly(consumer)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def ready_problem(self) -> str | None:
        return None if self.current is not None else "registry snapshot not loaded"


async def _stop_quietly(consumer: AIOKafkaConsumer) -> None:
    try:
        await consumer.stop()
    except Exception as exc:
        log.info("snapshot.consumer_stop_failed", error=repr(exc)[:200])


def _version(raw: bytes) -> int:
    try:
        return int(Envelope.from_bytes(raw).payload.get("snapshot_version", 0))
    except Exception:
        return 0
