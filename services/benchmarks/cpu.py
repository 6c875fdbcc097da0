"""CPU time the parts of a running local stack spend: the four services (and their worker
processes), the stack's PostgreSQL (every process of the server) and the broker.

The stack is found from its intake: the service processes sharing intake's DATABASE_URL, the
PostgreSQL listening on that URL's port and the broker listening on its KAFKA_BOOTSTRAP_SERVERS
port, so other stacks on the same machine are left out. A part not found (a real PostgreSQL or Kafka
elsewhere) is simply not listed.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil
from sqlalchemy import text

from shared.db import create_engine
from shared.messaging_tables import PENDING_WHERE

SERVICE = re.compile(r"services\.cli serve (\w+)")


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def _env(proc: psutil.Process) -> dict[str, str]:
    try:
        return proc.environ()
    except psutil.Error:
        return {}


def stack_parts(intake_port: int) -> dict[int, str]:
    """pid → part name for the stack whose intake listens on `intake_port`."""
    services = {p: m.group(1) for p in psutil.process_iter() if (m := SERVICE.search(_cmdline(p)))}
    intake = next(
        (
            p
            for p, name in services.items()
            if name == "intake" and _env(p).get("INTAKE_PORT") == str(intake_port)
        ),
        None,
    )
    if intake is None:
        return {}
    env = _env(intake)
    database_url, bootstrap = env.get("DATABASE_URL", ""), env.get("KAFKA_BOOTSTRAP_SERVERS", "")
    parts = {p.pid: name for p, name in services.items() if _env(p).get("DATABASE_URL") == database_url}
    pg_port = urlsplit(database_url.replace("+asyncpg", "")).port
    broker_port = bootstrap.rsplit(":", 1)[-1] if bootstrap else None
    postmasters: set[int] = set()
    for proc in psutil.process_iter():
        cmdline = _cmdline(proc)
        if pg_port and " -D " in cmdline and f"-p {pg_port}" in cmdline:
            postmasters.add(proc.pid)
            parts[proc.pid] = "postgres"
        elif broker_port and "tansu" in cmdline and f":{broker_port}" in cmdline:
            parts[proc.pid] = "broker"
    for proc in psutil.process_iter():
        try:
            ppid = proc.ppid()
        except psutil.Error:
            continue
        if ppid in postmasters:
            parts[proc.pid] = "postgres"
        elif ppid in parts and parts[ppid] not in ("postgres", "broker"):
            parts[proc.pid] = parts[ppid]  # a service's worker processes
    return parts


@dataclass(frozen=True)
class Sample:
    at: float
    seconds: dict[str, float]  # CPU seconds (user + system) per part


def sample(intake_port: int) -> Sample:
    totals: dict[str, float] = {}
    for pid, part in stack_parts(intake_port).items():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        totals[part] = totals.get(part, 0.0) + times.user + times.system
    return Sample(time.monotonic(), totals)


def per_second(first: Sample, last: Sample) -> dict[str, float]:
    """CPU seconds per wall second of each part between two samples."""
    wall = max(1e-9, last.at - first.at)
    return {
        part: (last.seconds.get(part, 0.0) - first.seconds.get(part, 0.0)) / wall for part in last.seconds
    }


async def settled(database_url: str, *, within: float = 60) -> None:
    """Wait until dispatch's outbox is published and the machine is mostly idle again (the events
    of the phases before consumed downstream), waiting at most `within` seconds."""
    engine = create_engine(database_url, pool_size=1)
    deadline = time.monotonic() + within
    query = text(f"SELECT count(*) FROM dispatch.outbox WHERE {PENDING_WHERE}")
    try:
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                backlog = (await conn.execute(query)).scalar_one()
            if backlog == 0 and await _idle_share(0.5) > 0.7:
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def _idle_share(seconds: float) -> float:
    """The share of the machine's CPU time idle over `seconds` (1.0 where /proc/stat is missing)."""

    def idle_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)

    try:
        idle0, total0 = idle_total()
        await asyncio.sleep(seconds)
        idle1, total1 = idle_total()
    except OSError:
        return 1.0
    return (idle1 - idle0) / max(1, total1 - total0)
