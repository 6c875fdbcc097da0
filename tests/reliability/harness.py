"""The fault suite's stack: the four services as real processes (any of them in several replicas) on a
durable PostgreSQL and a broker of their own, each process talking to PostgreSQL through a proxy of
its own and all of them to the broker through one proxy, so that a link can be cut, stalled or reset
without touching the server behind it.

`Hotline` files complaints the way a hotline system does (a reference per call, the same call
repeated until it is answered) and keeps the ledger; `tally` counts what became of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.local_stack import LocalStack, StackConfig
from services.registry.seeding import seed_file
from shared.dlq import read_dead_letters
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, _die_with_parent, free_port, remove_tree
from shared.events import ALL_TOPICS
from shared.kafka import ensure_topics
from shared.migrations import SERVICES, upgrade_all
from tests.conftest import TINY_CITY
from tests.tcp_proxy import TcpProxy

SHORT = os.environ.get("WHISTLE_RELIABILITY", "short") != "full"


@dataclass(frozen=True)
class Profile:
    """How hard the scenarios push: a short run inside `make test`, a full one in `make reliability`."""

    rate: float  # complaints a second while a scenario runs
    load_seconds: float  # load before and after a fault
    outage_seconds: float  # a database down, a broker frozen
    session_timeout_ms: int
    max_poll_interval_ms: int


PROFILE = (
    Profile(rate=20, load_seconds=3, outage_seconds=8, session_timeout_ms=6_000, max_poll_interval_ms=6_000)
    if SHORT
    else Profile(
        rate=40, load_seconds=10, outage_seconds=30, session_timeout_ms=10_000, max_poll_interval_ms=10_000
    )
)

# Every process of the suite runs with these (short timeouts make the faults bite within seconds).
TUNING = {
    "CONSUMER_SESSION_TIMEOUT_MS": str(PROFILE.session_timeout_ms),
    "CONSUMER_MAX_POLL_INTERVAL_MS": str(PROFILE.max_poll_interval_ms),
    "CONSUMER_REQUEST_TIMEOUT_MS": str(PROFILE.session_timeout_ms + 2_000),
    "CONSUMER_RETRY_MAX_SECONDS": "2",
    "OUTBOX_MAX_BACKOFF_SECONDS": "1",
    "TASK_DOWN_GRACE_SECONDS": "300",
}
# A write limit the flood scenario can reach without slowing the others.
HOTLINE_WRITES = '{"hotline": [60, 60]}'


def complaint(ref: str) -> dict[str, Any]:
    """A complaint in the tiny city (a lead and a co-handling department)."""
    return {
        "source": "hotline",
        "source_ref": ref,
        "category": "illegal_construction",
        "description": "楼顶私搭乱建",
        "location": {"lat": 39.905, "lon": 116.405},
        "reporter": {"name": "张三", "phone": "13800138000"},
    }


@dataclass
class Process:
    name: str  # "dispatch", "dispatch-2"
    service: str
    port: int
    db_link: TcpProxy
    popen: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class FaultStack:
    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="whistle-reliability-"))
        self.postgres = EmbeddedPostgres(
            self.home / "pgdata", port=free_port(), log_to=(self.home / "postgres.log").open("ab")
        )
        broker_link_port = free_port()
        self.broker = EmbeddedBroker(
            port=free_port(), advertised_port=broker_link_port, log_to=(self.home / "broker.log").open("ab")
        )
        self.broker_link = TcpProxy(broker_link_port, self.broker.port)
        self.processes: dict[str, Process] = {}
        self.ports = {s: free_port() for s in SERVICES}
        self.db: asyncpg.Pool | None = None
        self._local: LocalStack | None = None
        self._tokens: dict[str, str] = {}
        self.per_complaint = 0  # assignments a complaint comes to when nothing goes wrong

    @property
    def database_url(self) -> str:
        return self.postgres.url()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_link.listen_port}"

    def url(self, name: str) -> str:
        return self.processes[name].url

    async def start(self) -> None:
        await asyncio.to_thread(self.postgres.start)
        await asyncio.to_thread(self.broker.start)
        await self.broker_link.start()
        await ensure_topics(self.bootstrap, ALL_TOPICS, partitions=6)
        await upgrade_all(self.database_url)
        await seed_file(self.database_url, TINY_CITY)
        self._local = LocalStack(
            StackConfig(
                home=self.home,
                ports=self.ports,
                seed=False,
                database_url=self.database_url,
                bootstrap_servers=self.bootstrap,
                log_dir=self.home,
            )
        )
        await self.reconnect()
        for service in SERVICES:
            await self.start_process(service)
        await self.wait_ready(within=90)

    async def start_process(self, service: str, name: str | None = None, **env: str) -> Process:
        """Start (or restart) a process of a service; a new name makes a replica with its own port."""
        name = name or service
        process = self.processes.get(name)
        if process is None:
            port = self.ports[service] if name == service else free_port()
            link = TcpProxy(free_port(), self.postgres.port)
            process = self.processes[name] = Process(name, service, port, link, log=self.home / f"{name}.log")
        await process.db_link.start()
        assert self._local is not None
        child_env = self._local.child_env(service)
        prefix = service.upper()
        child_env.update({f"{prefix}_{k}": v for k, v in TUNING.items()})
        child_env.update(
            {
                "DATABASE_URL": self.database_url.replace(
                    f":{self.postgres.port}/", f":{process.db_link.listen_port}/"
                ),
                f"{prefix}_PORT": str(process.port),
                "INTAKE_WRITE_RATES": HOTLINE_WRITES,
            }
        )
        child_env.update(env)
        assert process.log is not None
        log = process.log.open("ab")
        process.popen = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "services.cli", "serve", service],
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _die_with_parent(signal.SIGKILL),
            start_new_session=True,
        )
        return process

    async def run_cli(
        self, service: str, *args: str, within: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """`whistle <args…>` with the environment a process of `service` gets (its database, broker
        and registry client)."""
        assert self._local is not None
        env = self._local.child_env(service) | {"DATABASE_URL": self.database_url}
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=within,
            check=False,
        )

    def signal(self, name: str, sig: signal.Signals) -> None:
        popen = self.processes[name].popen
        assert popen is not None and popen.poll() is None, f"{name} is not running"
        popen.send_signal(sig)

    async def kill(self, name: str) -> None:
        """kill -9: no shutdown, open transactions abandoned."""
        self.signal(name, signal.SIGKILL)
        popen = self.processes[name].popen
        assert popen is not None
        await asyncio.to_thread(popen.wait, 10)

    async def stop_process(self, name: str) -> None:
        """A clean shutdown (SIGTERM), and the process forgotten."""
        process = self.processes.pop(name)
        if process.popen is not None and process.popen.poll() is None:
            process.popen.send_signal(signal.SIGCONT)
            process.popen.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.popen.wait, 20)
            except subprocess.TimeoutExpired:
                process.popen.kill()
        await process.db_link.cut()

    async def wait_ready(self, names: list[str] | None = None, *, within: float = 60) -> float:
        """Wait until every (named) process answers /healthz and /readyz with 200; the seconds it took."""
        started = time.monotonic()
        deadline = started + within
        async with httpx.AsyncClient(timeout=2) as client:
            for name in names or list(self.processes):
                process = self.processes[name]
                while True:
                    if not process.alive:
                        raise AssertionError(f"{name} is not running:\n{self.log_tail(name)}")
                    with contextlib.suppress(httpx.HTTPError):
                        ready = await client.get(f"{process.url}/readyz")
                        healthy = await client.get(f"{process.url}/healthz")
                        if ready.status_code == healthy.status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"{name} not healthy within {within:.0f}s:\n{self.log_tail(name)}"
                        )
                    await asyncio.sleep(0.25)
        return time.monotonic() - started

    def log_tail(self, name: str, chars: int = 3000) -> str:
        log = self.processes[name].log if name in self.processes else self.home / f"{name}.log"
        return log.read_text(errors="replace")[-chars:] if log and log.exists() else "(no log)"

    async def reconnect(self) -> None:
        """A new pool for the suite's own counting, after PostgreSQL restarted."""
        if self.db is not None:
            self.db.terminate()
        self.db = await asyncpg.create_pool(self.database_url.replace("+asyncpg", ""), min_size=1, max_size=4)

    async def token(self, client_id: str) -> str:
        if client_id not in self._tokens:
            async with httpx.AsyncClient(base_url=self.url("registry"), timeout=10) as client:
                data = {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": f"demo-{client_id}-secret",
                }
                response = await client.post("/oauth/token", data=data)
                response.raise_for_status()
                self._tokens[client_id] = str(response.json()["access_token"])
        return self._tokens[client_id]

    async def client(self, name: str, as_client: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {await self.token(as_client)}"}
        return httpx.AsyncClient(base_url=self.url(name), timeout=10, headers=headers)

    async def dead_letters(self) -> int:
        counts = await asyncio.gather(
            *(read_dead_letters(self.broker.bootstrap_servers, topic, within=3) for topic in ALL_TOPICS)
        )
        return sum(len(c) for c in counts)

    async def close(self) -> None:
        for name in list(self.processes):
            with contextlib.suppress(Exception):
                await self.stop_process(name)
        if self.db is not None:
            await self.db.close()
        await self.broker_link.cut()
        await asyncio.to_thread(self.broker.stop)
        await asyncio.to_thread(self.postgres.stop)
        remove_tree(self.home)


@dataclass
class Hotline:
    """Files complaints at a steady rate, each call repeated (same reference) until it is answered."""

    stack: FaultStack
    prefix: str
    rate: float = PROFILE.rate
    workers: int = 8
    give_up_after: float = 120.0
    to: str = "intake"
    accepted: dict[str, str] = field(default_factory=dict)  # source_ref -> complaint id
    answers: Counter[str] = field(default_factory=Counter)  # every answer: status code or error name
    abandoned: list[str] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _n: int = 0

    async def __aenter__(self) -> Hotline:
        token = await self.stack.token("hotline")
        self._client = httpx.AsyncClient(
            base_url=self.stack.url(self.to),
            timeout=5,
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=self.workers),
        )
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop calling with new complaints; the calls in progress are repeated until answered."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self._client.aclose()

    def refused(self) -> Counter[str]:
        return Counter({k: v for k, v in self.answers.items() if k not in ("201", "200")})

    async def _work(self) -> None:
        pause = self.workers / self.rate
        while not self._stop.is_set():
            self._n += 1
            ref = f"{self.prefix}-{self._n}-{uuid.uuid4().hex[:6]}"
            started = time.monotonic()
            await self._file(ref)
            await asyncio.sleep(max(0.0, pause - (time.monotonic() - started)))

    async def _file(self, ref: str) -> None:
        deadline = time.monotonic() + self.give_up_after
        while True:
            try:
                response = await self._client.post("/v1/complaints", json=complaint(ref))
                self.answers[str(response.status_code)] += 1
                if response.status_code in (200, 201):
                    self.accepted[ref] = response.json()["id"]
                    return
            except httpx.HTTPError as exc:
                self.answers[type(exc).__name__] += 1
            if time.monotonic() > deadline:
                self.abandoned.append(ref)
                return
            await asyncio.sleep(0.3)


@dataclass(frozen=True)
class Tally:
    """What became of a scenario's complaints."""

    accepted: int  # answered 201 (or 200 for a repeat)
    stored: int  # rows in intake for the scenario's references
    queued: int  # accepted complaints with a whistle whose assignments reached department queues
    whistles: int
    assignments: int
    lost: int  # accepted, never queued
    duplicated: int  # whistles beyond one per complaint, assignments beyond the expected count

    def row(self) -> dict[str, int]:
        return self.__dict__.copy()


async def tally(stack: FaultStack, accepted: dict[str, str], *, prefix: str, per_complaint: int) -> Tally:
    assert stack.db is not None
    ids = list(accepted.values())
    stored = await stack.db.fetchval(
        """SELECT count(*) FROM intake.complaints
           WHERE source = 'hotline' AND (source_ref LIKE $1 OR id::text = ANY($2::text[]))""",
        prefix + "-%",
        ids,
    )
    rows = await stack.db.fetch(
        """SELECT w.complaint_id, count(DISTINCT w.id) AS whistles, count(a.id) AS assignments
           FROM dispatch.whistles w LEFT JOIN dispatch.assignments a ON a.whistle_id = w.id
           WHERE w.complaint_id = ANY($1::text[]) GROUP BY w.complaint_id""",
        ids,
    )
    whistles = sum(r["whistles"] for r in rows)
    assignments = sum(r["assignments"] for r in rows)
    queued = sum(1 for r in rows if r["assignments"] >= per_complaint)
    duplicated = sum(max(0, r["whistles"] - 1) + max(0, r["assignments"] - per_complaint) for r in rows)
    return Tally(len(set(ids)), stored, queued, whistles, assignments, len(set(ids)) - queued, duplicated)


async def settle(
    stack: FaultStack, accepted: dict[str, str], *, prefix: str, per_complaint: int, within: float = 120
) -> Tally:
    """Wait until every accepted complaint is queued and the counts hold still, then count."""
    deadline = time.monotonic() + within
    last: Tally | None = None
    while True:
        current = await tally(stack, accepted, prefix=prefix, per_complaint=per_complaint)
        if current.lost == 0 and current == last:
            return current
        if time.monotonic() > deadline:
            return current
        last = current
        await asyncio.sleep(1.5)
