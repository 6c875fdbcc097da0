"""CPU time the parts of a running local stack spend: the four services (and their worker
processes), the stack's PostgreSQL (every process of the server) and the broker.

The stack is found from its intake: the service processes sharing intake's DATABASE_URL, the
PostgreSQL listening on that URL's port and the broker listening on its KAFKA_BOOTSTRAP_SERVERS
port, so other stacks on the same machine are left out. A part not found (a real PostgreSQL or Kafka
elsewhere) is simply not listed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil

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
