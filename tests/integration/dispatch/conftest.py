"""Dispatch on its own database (a fresh one per test module) with the tiny city, its API served
in process over ASGI with real token verification (a key set of the test's own), the LISTEN
connection that wakes claims running, and its consumers' handlers fed events as the loop would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.dispatch.app import build_app
from services.dispatch.breaches import Breaches
from services.dispatch.handlers import DispatchHandlers
from services.dispatch.settings import DispatchSettings
from services.dispatch.wakeups import Wakeups
from shared.access import scopes_for
from shared.auth import ACCESS, AUDIENCE, ISSUER, TokenVerifier
from shared.city import CityData, CitySnapshot
from shared.events import ComplaintReceived, Envelope, Payload, envelope_for, utcnow
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.snapshot_cache import SnapshotCache
from tests.conftest import scratch_database, tiny_city

pytestmark = pytest.mark.integration

TABLES = (
    "whistles, assignments, extension_requests, escalation_steps, action_replies, refused_pushdowns,"
    " audit_log, outbox, inbox"
)
CLIENTS = {c.client_id: c for c in tiny_city().clients}


class Keys:
    """The registry's signing key, as far as these tests need it."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()

    async def jwks(self) -> dict[str, Any]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        return {"keys": [jwk | {"kid": "test"}], "revoked_api_keys": []}

    def token(self, client_id: str) -> str:
        client = CLIENTS[client_id]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": client_id,
            "kind": client.kind,
            "typ": ACCESS,
            "scope": " ".join(sorted(scopes_for(client.kind))),
            "iat": now,
            "exp": now + 600,
        }
        for binding in ("department", "street", "district"):
            if getattr(client, binding):
                claims[binding] = getattr(client, binding)
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": "test"})  # type: ignore[arg-type]


@dataclass
class DispatchDb:
    app: FastAPI
    runtime: Runtime
    cache: SnapshotCache
    keys: Keys
    handlers: DispatchHandlers = field(init=False)
    breaches: Breaches = field(init=False)

    def __post_init__(self) -> None:
        self.handlers = DispatchHandlers(self.cache, self.runtime.outbox)
        self.breaches = Breaches(self.cache, self.runtime.outbox, self.wakeups)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.runtime.sessions

    @property
    def wakeups(self) -> Wakeups:
        return self.app.state.wakeups  # type: ignore[no-any-return]

    def client(self, as_client: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://dispatch.test",
            headers={"Authorization": f"Bearer {self.keys.token(as_client)}"},
            timeout=40,
        )

    def install(self, city: CityData) -> None:
        """A newer version of the city (other rules or policies) for what follows."""
        self.cache.install(CitySnapshot(version=self.cache.version + 1, city=city))

    async def deliver(self, payload: Payload, *, correlation_id: str = "x") -> None:
        """Handle a complaint or SLA event as the consumer loop would (one transaction)."""
        envelope = envelope_for(payload, producer="test", correlation_id=correlation_id)
        table = {**self.handlers.table(), **self.breaches.table()}
        async with self.sessions() as session, session.begin():
            await table[type(payload)](session, payload, envelope)

    async def complaint(self, category: str = "illegal_construction", street_code: str = "s1") -> str:
        """A received complaint, dispatched; its id."""
        complaint_id = str(uuid.uuid4())
        index = self.cache.require().index
        await self.deliver(
            ComplaintReceived(
                complaint_id=complaint_id,
                source="hotline",
                category=category,
                urgency=index.categories[category].urgency,
                district_code=index.street_district[street_code],
                street_code=street_code,
                community_code=f"{street_code}-01",
                received_at=utcnow(),
                snapshot_version=self.cache.version,
            ),
            correlation_id=complaint_id,
        )
        return complaint_id

    async def events(self, correlation_id: str | None = None) -> list[Envelope]:
        async with self.sessions() as session:
            rows = await session.execute(text("SELECT value FROM dispatch.outbox ORDER BY id"))
            found = [Envelope.from_bytes(r[0]) for r in rows]
        return [e for e in found if correlation_id is None or e.correlation_id == correlation_id]

    async def types(self, correlation_id: str) -> list[str]:
        return [e.type for e in await self.events(correlation_id)]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.sessions() as session:
            return (await session.execute(text(sql), params)).scalar_one()


@pytest.fixture(scope="module")
async def dispatch_url(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with scratch_database(infra.database_url, "dispatch") as url:
        await asyncio.to_thread(upgrade, "dispatch", url)
        yield url


@pytest.fixture
async def dispatch(dispatch_url: str, infra) -> AsyncIterator[DispatchDb]:  # type: ignore[no-untyped-def]
    cache = SnapshotCache("http://registry.invalid")
    cache.install(CitySnapshot(version=1, city=tiny_city()))
    keys = Keys()
    settings = DispatchSettings(database_url=dispatch_url, kafka_bootstrap_servers=infra.bootstrap_servers)
    app = build_app(settings, cache=cache, verifier=TokenVerifier(keys.jwks))
    runtime: Runtime = app.state.runtime
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text(f"TRUNCATE {', '.join(f'dispatch.{t.strip()}' for t in TABLES.split(','))} CASCADE")
        )
    db = DispatchDb(app, runtime, cache, keys)
    stop = asyncio.Event()
    listening = asyncio.create_task(db.wakeups.listen(runtime, stop))
    while not db.wakeups.listening and not listening.done():  # noqa: ASYNC110 (no event to wait on)
        await asyncio.sleep(0.01)
    yield db
    stop.set()
    await asyncio.wait_for(listening, 10)
    await runtime.engine.dispose()
