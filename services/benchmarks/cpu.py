"""CPU time the parts of a running local stack spend: the four services (and their worker
processes), the stack's PostgreSQL (every process of the server on its data directory) and the broker.

Parts are found by their command lines, as `whistle up` starts them; a part not found (a real
PostgreSQL or Kafka elsewhere) is simply not listed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import psutil

SERVICE = re.compile(r"services\.cli serve (\w+)")


def stack_parts(home: str | None = None) -> dict[int, str]:
    """pid → part name for the stack started from this checkout (or with its data under `home`)."""
    parts: dict[int, str] = {}
    postmasters: set[int] = set()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        match = SERVICE.search(cmdline)
        if match:
            parts[proc.info["pid"]] = match.group(1)
        elif "tansu" in cmdline and " broker" in cmdline:
            parts[proc.info["pid"]] = "broker"
        elif "postgres" in cmdline and " -D " in cmdline and (home or "/.whistle/") in cmdline:
            postmasters.add(proc.info["pid"])
            parts[proc.info["pid"]] = "postgres"
    for proc in psutil.process_iter(["pid", "ppid"]):
        ppid = proc.info["ppid"]
        if ppid in postmasters:
            parts[proc.info["pid"]] = "postgres"
        elif ppid in parts and parts[ppid] not in ("postgres", "broker"):
            parts[proc.info["pid"]] = parts[ppid]  # a service's worker processes
    return parts


@dataclass(frozen=True)
class Sample:
    at: float
    seconds: dict[str, float]  # CPU seconds (user + system, children included) per part


def sample(home: str | None = None) -> Sample:
    totals: dict[str, float] = {}
    for pid, part in stack_parts(home).items():
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
