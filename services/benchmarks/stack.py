"""The stack a benchmark runs against: the one answering at the URLs given (by default `whistle up`'s
ports), or else one it starts itself on free ports — an embedded PostgreSQL and broker, migrated and
seeded with the demo city, and the services it names, as `whistle up` runs them (`LocalStack`) —
and stops at the end. Benchmarks may start more service processes on it (`spawn`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.local_stack import LocalStack, StackConfig
from shared.embedded import _die_with_parent, free_port, remove_tree
from shared.settings import InfraSettings


@dataclass
class Target:
    urls: dict[str, str]
    database_url: str
    bootstrap: str
    started: bool  # this run started the stack (and stops it)
    log_dir: Path
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def describe(self) -> str:
        where = "started for this run" if self.started else "already running"
        return f"stack {where}: " + ", ".join(f"{s} {u}" for s, u in self.urls.items())

    def spawn(self, service: str, *, name: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
        """Start one more process of `service` on a free port, on this stack's database, broker and
        registry; the process and its URL."""
        port = free_port()
        registry_port = int(self.urls["registry"].rsplit(":", 1)[1])
        config = StackConfig(
            home=self.log_dir,
            ports={"registry": registry_port, service: port},
            database_url=self.database_url,
            bootstrap_servers=self.bootstrap,
        )
        log = self.log_dir / f"{name or service}-{port}.log"
        proc = serve(service, LocalStack(config).child_env(service), log)
        self.children.append(proc)
        return proc, f"http://127.0.0.1:{port}"

    def stop_children(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.children:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.children.clear()


def serve(service: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`whistle serve SERVICE` as a child process that dies with this one, logging to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", service],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: _die_with_parent(signal.SIGTERM),
        start_new_session=True,
    )


async def answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{url.rstrip('/')}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_ready(url: str, proc: subprocess.Popen[bytes], *, within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await answers(url):
        if proc.poll() is not None:
            raise RuntimeError(f"the process for {url} exited with code {proc.returncode}")
        if loop.time() > deadline:
            raise TimeoutError(f"{url} not ready within {within:.0f}s")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def stack(
    urls: dict[str, str],
    *,
    database_url: str | None,
    bootstrap: str | None,
    services: Sequence[str],
    start: Sequence[str] | None = None,
) -> AsyncIterator[Target]:
    """The stack answering at `urls` (each of `services` must answer), else one started here with
    `start` (default: `services`)."""
    infra = InfraSettings()
    log_dir = Path(tempfile.mkdtemp(prefix="whistle-bench-"))
    found = all([await answers(urls[s]) for s in services])
    if found:
        target = Target(
            dict(urls),
            database_url or infra.database_url,
            bootstrap or infra.kafka_bootstrap_servers,
            started=False,
            log_dir=log_dir,
        )
        try:
            yield target
        finally:
            await asyncio.to_thread(target.stop_children)
            remove_tree(log_dir)
        return
    ports = {s: free_port() for s in (start or services)}
    config = StackConfig(
        home=log_dir,
        pg_port=free_port(),
        broker_port=free_port(),
        ports=ports,
        seed=True,
        log_dir=log_dir,
        with_prometheus=False,
    )
    local = LocalStack(config)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # standard output is the benchmark's
            await asyncio.to_thread(local.start_servers)
            await local.prepare()
        for service in ports:
            local.children[service] = serve(service, local.child_env(service), log_dir / f"{service}.log")
        await local.wait_healthy(within=90)
        target = Target(
            {s: f"http://127.0.0.1:{p}" for s, p in ports.items()},
            local.database_url,
            local.bootstrap,
            started=True,
            log_dir=log_dir,
        )
        try:
            yield target
        finally:
            await asyncio.to_thread(target.stop_children)
    finally:
        with contextlib.redirect_stdout(sys.stderr):
            await asyncio.to_thread(local.stop)
        remove_tree(log_dir)


def token(registry_url: str, client_id: str, secret: str | None = None) -> str:
    """An access token for a demo client (secret `demo-<client>-secret` unless given)."""
    response = httpx.post(
        f"{registry_url.rstrip('/')}/oauth/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret or f"demo-{client_id}-secret",
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])
