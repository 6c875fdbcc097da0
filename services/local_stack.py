"""`whistle up`: the whole system on one machine.

Starts (unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS point elsewhere) an embedded PostgreSQL with
its data under `.whistle/` and an in-memory Tansu broker, migrates, seeds the demo city if the
registry is empty, then runs the four services as child processes with prefixed logs. SIGINT or
SIGTERM stops everything; children die with the supervisor even if it is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from rich.console import Console

from shared.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    EmbeddedPrometheus,
    _die_with_parent,
    find_prometheus,
)
from shared.events import ALL_TOPICS
from shared.kafka import ensure_topics
from shared.migrations import SERVICES, upgrade_all
from shared.settings import InfraSettings

RULES = Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "rules.yml"
SERVICE_PORTS = {"registry": 8001, "intake": 8002, "dispatch": 8003, "sla": 8004}
COLOURS = {"registry": "cyan", "intake": "green", "dispatch": "magenta", "sla": "yellow", "stack": "bold"}
console = Console(highlight=False)


def say(source: str, text: str) -> None:
    console.print(f"[{COLOURS.get(source, 'white')}]{source:>8} |[/] {text}", markup=True, soft_wrap=True)


@dataclass
class StackConfig:
    home: Path = field(default_factory=lambda: Path(".whistle").resolve())
    pg_port: int = 15432
    broker_port: int = 19092
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    seed: bool = True
    database_url: str | None = None  # None: start the embedded PostgreSQL
    bootstrap_servers: str | None = None  # None: start the embedded broker
    log_dir: Path | None = None  # services log to files there instead of this terminal
    # The client the services use to read the registry (the demo city's read-only viewer).
    service_client: tuple[str, str] = ("viewer", "demo-viewer-secret")
    prometheus: str | None = None  # a Prometheus binary; None: `prometheus` on the PATH, if any
    prometheus_port: int = 19090
    with_prometheus: bool = True


def pii_key(home: Path) -> str:
    """The local stack's key for residents' data, made once and kept under `.whistle/`."""
    from services.intake.pii import new_key

    path = home / "pii.key"
    if not path.exists():
        path.write_text(new_key())
        path.chmod(0o600)
    return path.read_text().strip()


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.infra = InfraSettings()
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.prometheus: EmbeddedPrometheus | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.database_url = config.database_url or self.infra.database_url
        self.bootstrap = config.bootstrap_servers or self.infra.kafka_bootstrap_servers

    def start_servers(self) -> None:
        cfg = self.config
        cfg.home.mkdir(parents=True, exist_ok=True)
        logs = cfg.home / "logs"
        logs.mkdir(exist_ok=True)
        if cfg.database_url is None:
            self.postgres = EmbeddedPostgres(
                cfg.home / "pgdata",
                host=cfg.host,
                port=cfg.pg_port,
                log_to=(logs / "postgres.log").open("ab"),
            )
            self.postgres.start()
            self.database_url = self.postgres.url()
            say("stack", f"PostgreSQL on {cfg.host}:{cfg.pg_port} (data in {cfg.home / 'pgdata'})")
        if cfg.bootstrap_servers is None:
            self.broker = EmbeddedBroker(
                host=cfg.host, port=cfg.broker_port, log_to=(logs / "broker.log").open("ab")
            )
            self.broker.start()
            self.bootstrap = self.broker.bootstrap_servers
            say("stack", f"Kafka-protocol broker (Tansu, in memory) on {self.bootstrap}")

    def start_prometheus(self) -> str:
        """Start a Prometheus scraping the services when this machine has one; what to tell the user."""
        cfg = self.config
        if not cfg.with_prometheus:
            return "no Prometheus (--no-prometheus)"
        binary = find_prometheus(cfg.prometheus)
        if binary is None:
            return (
                "no Prometheus here: install one (Debian: apt-get install prometheus) or name it with "
                "--prometheus PATH, and `whistle up` starts it with the project's rules"
            )
        self.prometheus = EmbeddedPrometheus(
            binary,
            cfg.home / "prometheus",
            targets=[f"{cfg.host}:{port}" for port in cfg.ports.values()],
            rules=RULES if RULES.exists() else None,
            host=cfg.host,
            port=cfg.prometheus_port,
            log_to=(cfg.home / "logs" / "prometheus.log").open("ab"),
        )
        self.prometheus.start()
        return f"Prometheus on {self.prometheus.url} (scraping every service, rules from {RULES})"

    async def prepare(self) -> None:
        await ensure_topics(
            self.bootstrap,
            ALL_TOPICS,
            partitions=self.infra.topic_partitions,
            replication=self.infra.topic_replication,
        )
        await upgrade_all(self.database_url)
        say("stack", f"migrated {', '.join(SERVICES)}")
        if self.config.seed:
            from services.registry.seeding import seed_demo_if_empty

            version = await seed_demo_if_empty(self.database_url)
            say("stack", f"demo city seeded (snapshot v{version})" if version else "registry already seeded")

    def child_env(self, service: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "TOPIC_PARTITIONS": str(self.infra.topic_partitions),
                f"{service.upper()}_PORT": str(self.config.ports[service]),
                f"{service.upper()}_HOST": self.config.host,
                f"{service.upper()}_REGISTRY_URL": f"http://{self.config.host}:{self.config.ports['registry']}",
                f"{service.upper()}_REGISTRY_CLIENT_ID": self.config.service_client[0],
                f"{service.upper()}_REGISTRY_CLIENT_SECRET": self.config.service_client[1],
                "PYTHONUNBUFFERED": "1",
            }
        )
        if service == "intake" and "INTAKE_PII_KEYS" not in env:
            env["INTAKE_PII_KEYS"] = f'["{pii_key(self.config.home)}"]'
        return env

    def start_services(self) -> None:
        for service in SERVICES:
            out: IO[bytes] | int = subprocess.PIPE
            if self.config.log_dir is not None:
                out = (self.config.log_dir / f"{service}.log").open("ab")
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "serve", service],
                env=self.child_env(service),
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: _die_with_parent(signal.SIGTERM),
                start_new_session=True,
            )
            self.children[service] = proc

    async def pump_logs(self) -> None:
        async def pump(service: str, proc: subprocess.Popen[bytes]) -> None:
            if proc.stdout is None:
                return
            reader = proc.stdout
            while True:
                line = await asyncio.to_thread(reader.readline)
                if not line:
                    return
                say(service, line.decode(errors="replace").rstrip())

        await asyncio.gather(*(pump(s, p) for s, p in self.children.items()))

    async def wait_healthy(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as client:
            for service, port in self.config.ports.items():
                while True:
                    proc = self.children[service]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{service} exited with code {proc.returncode}")
                    try:
                        if (await client.get(f"http://{self.config.host}:{port}/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{service} not ready within {within:.0f}s")
                    await asyncio.sleep(0.2)

    def stop(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.children.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.prometheus:
            self.prometheus.stop()
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()


async def run_stack(config: StackConfig) -> int:
    started = time.monotonic()
    stack = LocalStack(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.to_thread(stack.start_servers)
        await stack.prepare()
        stack.start_services()
        logs = asyncio.create_task(stack.pump_logs())
        await stack.wait_healthy()
        prometheus = await asyncio.to_thread(stack.start_prometheus)
        ports = ", ".join(f"{s} :{p}" for s, p in config.ports.items())
        say(
            "stack",
            f"ready in {time.monotonic() - started:.1f}s — {ports}; {prometheus}. Ctrl-C stops everything.",
        )
        watch = asyncio.create_task(_first_exit(stack))
        await asyncio.wait([asyncio.create_task(stop.wait()), watch], return_when=asyncio.FIRST_COMPLETED)
        if watch.done():
            say("stack", f"{watch.result()} exited; stopping")
            return 1
        return 0
    finally:
        say("stack", "stopping")
        await asyncio.to_thread(stack.stop)
        if "logs" in locals():
            logs.cancel()
        say("stack", "stopped")


async def _first_exit(stack: LocalStack) -> str:
    while True:
        for service, proc in stack.children.items():
            if proc.poll() is not None:
                return service
        await asyncio.sleep(0.5)
