"""A service's copy of the registry's routing model, refreshed on `registry.changed`.

Loaded over HTTP at start (retrying until the registry answers); `If-None-Match` makes a refresh
that finds nothing new cheap. Readiness fails until a snapshot is loaded.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from shared.auth import ClientCredentials
from shared.city import CitySnapshot
from shared.events import REGISTRY_CHANGES, Envelope, utcnow
from shared.geo import Locator
from shared.logging import get_logger
from shared.routing import CityIndex
from shared.settings import ServiceSettings

log = get_logger(__name__)


class SnapshotCache:
    def __init__(self, registry_url: str, *, token_provider: Any = None) -> None:
        self.registry_url = registry_url.rstrip("/")
        self.token_provider = token_provider
        self.snapshot: CitySnapshot | None = None
        self.index: CityIndex | None = None
        self.locator: Locator | None = None
        self._etag: str | None = None
        self.checked_at: datetime | None = None  # when the registry last confirmed our copy current
        self._lock = asyncio.Lock()

    @property
    def version(self) -> int:
        return self.snapshot.version if self.snapshot else 0

    def install(self, snapshot: CitySnapshot) -> None:
        self.index = CityIndex.build(snapshot.city, snapshot.version)
        self.locator = Locator(snapshot.city)
        self.snapshot = snapshot

    async def refresh(self) -> bool:
        """Fetch the current snapshot; True if a new version was installed."""
        async with self._lock:
            asked_at = utcnow()
            headers = {"If-None-Match": self._etag} if self._etag else {}
            if self.token_provider is not None:
                headers["Authorization"] = f"Bearer {await self.token_provider()}"
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.get(f"{self.registry_url}/v1/snapshot", headers=headers)
            if response.status_code == 304:
                self.checked_at = asked_at
                return False
            response.raise_for_status()
            snapshot = CitySnapshot.model_validate_json(response.content)
            await asyncio.to_thread(self.install, snapshot)
            self._etag = response.headers.get("etag")
            self.checked_at = asked_at
            log.info("snapshot.loaded", version=snapshot.version)
            return True

    async def load_until_ready(self, stop: asyncio.Event | None = None) -> None:
        delay = 0.2
        while self.snapshot is None and not (stop and stop.is_set()):
            try:
                await self.refresh()
            except Exception as exc:
                log.info("snapshot.waiting_for_registry", error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)

    def _bind_credentials(self, settings: ServiceSettings) -> None:
        if self.token_provider is None and settings.registry_client_id and settings.registry_client_secret:
            self.token_provider = ClientCredentials(
                settings.registry_url, settings.registry_client_id, settings.registry_client_secret
            )

    async def load_on_start(self, runtime: Any) -> None:
        """A runtime start hook: wait for the snapshot before consumers start routing."""
        self._bind_credentials(runtime.settings)
        await self.load_until_ready()

    async def follow(self, runtime: Any, stop: asyncio.Event, *, poll_seconds: float = 30) -> None:
        """Keep the copy current: every replica reads `registry.changes` itself (no consumer group),
        and polls with If-None-Match in case an event was missed."""
        self._bind_credentials(runtime.settings)
        await self.load_until_ready(stop)
        consumer = AIOKafkaConsumer(
            REGISTRY_CHANGES,
            bootstrap_servers=runtime.settings.bootstrap_servers,
            group_id=None,
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        await consumer.start()
        last_poll = time.monotonic()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500)
                newest = max((_version(r.value) for records in batch.values() for r in records), default=None)
                due = time.monotonic() - last_poll >= poll_seconds
                if (newest is not None and newest > self.version) or due:
                    last_poll = time.monotonic()
                    try:
                        await self.refresh()
                    except Exception as exc:
                        log.warning("snapshot.refresh_failed", error=repr(exc))
        finally:
            await consumer.stop()

    async def ready_problem(self) -> str | None:
        return None if self.snapshot is not None else "registry snapshot not loaded"


def _version(raw: bytes) -> int:
    try:
        return int(Envelope.from_bytes(raw).payload.get("snapshot_version", 0))
    except Exception:
        return 0
