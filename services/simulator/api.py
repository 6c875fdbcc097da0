"""The stack's HTTP APIs as the simulated clients call them: one connection pool per service, a
token per demo client (secret `demo-<client id>-secret`, renewed before it expires), and a retry
when a service answers 503 or a connection fails for a moment."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

SERVICES = ("registry", "intake", "dispatch", "sla")
DEFAULT_URLS: Mapping[str, str] = {
    "registry": "http://127.0.0.1:8001",
    "intake": "http://127.0.0.1:8002",
    "dispatch": "http://127.0.0.1:8003",
    "sla": "http://127.0.0.1:8004",
}
RETRIES = 5


class ApiError(RuntimeError):
    """A call the simulator needed answered, answered with an error."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Token:
    value: str
    renew_at: float


class Api:
    def __init__(self, urls: Mapping[str, str], *, connections: int = 64) -> None:
        self.urls = {s: urls[s].rstrip("/") for s in SERVICES}
        # One TLS context for every pool: building one per client reads the CA bundle each time.
        self._tls = ssl.create_default_context()
        self._http = {s: self._client(s, connections) for s in SERVICES}
        self._own: list[httpx.AsyncClient] = []
        self._tokens: dict[str, _Token] = {}
        self._token_locks: dict[str, asyncio.Lock] = {}
        self.counts: Counter[str] = Counter()
        """Calls made and calls answered with an error, by method, service and status."""
        self.seconds: dict[str, list[float]] = {}
        """How long each service took to answer, per call."""

    def _client(self, service: str, connections: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.AsyncClient(base_url=self.urls[service], timeout=60, limits=limits, verify=self._tls)

    def own_connection(self, service: str) -> Api:
        """A view of this API with a connection of its own to `service` (for a long-polling caller,
        so its waits hold no connection the others need)."""
        view = object.__new__(Api)
        view.__dict__ = dict(self.__dict__)
        client = self._client(service, 1)
        self._own.append(client)
        view._http = self._http | {service: client}
        return view

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() for c in [*self._http.values(), *self._own]))

    async def token(self, client_id: str) -> str:
        """The client's access token, fetched once and renewed shortly before it expires."""
        held = self._tokens.get(client_id)
        if held is not None and time.monotonic() < held.renew_at:
            return held.value
        async with self._token_locks.setdefault(client_id, asyncio.Lock()):
            held = self._tokens.get(client_id)
            if held is None or time.monotonic() >= held.renew_at:
                response = await self._http["registry"].post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": client_id,
                        "client_secret": f"demo-{client_id}-secret",
                    },
                )
                response.raise_for_status()
                body = response.json()
                held = _Token(str(body["access_token"]), time.monotonic() + float(body["expires_in"]) * 0.8)
                self._tokens[client_id] = held
            return held.value

    async def call(
        self,
        service: str,
        client_id: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
    ) -> Answer:
        """One call as `client_id`; a 503 or a failed connection is tried again with back-off."""
        delay = 0.2
        for attempt in range(RETRIES):
            self.counts["calls"] += 1
            try:
                headers = {"Authorization": f"Bearer {await self.token(client_id)}"}
                began = time.monotonic()
                response = await self._http[service].request(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers=headers,
                )
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                if attempt == RETRIES - 1:
                    raise ApiError(f"{method} {service}{path}: {exc!r}") from None
            else:
                self.seconds.setdefault(service, []).append(time.monotonic() - began)
                if response.status_code != 503 or attempt == RETRIES - 1:
                    body = response.json() if response.content else None
                    if response.status_code >= 400:
                        self.counts[f"{method} {service} {response.status_code}"] += 1
                    return Answer(response.status_code, body)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)
        raise AssertionError("unreachable")

    async def need(self, service: str, client_id: str, method: str, path: str, **kw: Any) -> Any:
        """A call that must succeed: its body, or ApiError."""
        answer = await self.call(service, client_id, method, path, **kw)
        if not answer.ok:
            raise ApiError(f"{method} {service}{path} as {client_id}: {answer.status} {answer.body}")
        return answer.body

    async def metrics(self, service: str) -> str:
        response = await self._http[service].get("/metrics")
        response.raise_for_status()
        return response.text


def counter_total(text: str, name: str) -> float:
    """The sum of a Prometheus counter's samples over every label set, from a /metrics page."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            if head == name or head.startswith(name + "{"):
                total += float(value)
    return total
