"""Time compressed by policy, never by code: for a run at `--speed N` the simulator installs a copy
of the SLA policy of every urgency (and of the dispatch policy's escalation delays) with each
duration divided by N and written in seconds, as new policy versions in force from now; after
the run — also when it is interrupted — it puts the original bodies back as newer versions.

A working day counts as 7/5 calendar days (a week's five working days spread over seven), and
no compressed duration is shorter than one second.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

from services.simulator.api import Api
from services.simulator.workers import Deadlines
from shared.logging import get_logger
from shared.work_calendar import DurationUnit, parse_duration

log = get_logger(__name__)

SECONDS = {
    DurationUnit.SECONDS: 1,
    DurationUnit.MINUTES: 60,
    DurationUnit.HOURS: 3600,
    DurationUnit.DAYS: 86_400,
    DurationUnit.WORKING_DAYS: 86_400 * 7 / 5,
}
SLA_STAGES = ("sign_off", "contact", "report_in", "resolve")
PROPAGATION_SECONDS = 3.0
"""How long the services are given to pick up a new policy version (registry.changed)."""


def seconds_of(text: str) -> float:
    """A policy duration in seconds (working days at 7/5 calendar days)."""
    duration = parse_duration(text)
    return duration.amount * SECONDS[duration.unit]


def compress(text: str, speed: float) -> str:
    """The duration divided by `speed`, in whole seconds (at least one)."""
    return f"{max(1, math.ceil(seconds_of(text) / speed))}s"


def compressed_sla(body: dict[str, Any], speed: float) -> dict[str, Any]:
    return {k: compress(v, speed) if k in SLA_STAGES else v for k, v in body.items()}


def compressed_dispatch(body: dict[str, Any], speed: float) -> dict[str, Any]:
    steps = [
        s | {"after": compress(s["after"], speed)} if s.get("after") else s
        for s in body.get("escalation", [])
    ]
    return body | {"escalation": steps}


def deadlines(body: dict[str, Any]) -> Deadlines:
    """An SLA policy's durations in seconds (of the original, uncompressed policy)."""
    return Deadlines(*(seconds_of(body[s]) for s in SLA_STAGES))


@dataclass
class PolicySwap:
    """The compressed copy in force for the run, and the originals to put back."""

    api: Api
    speed: float
    sla: dict[str, dict[str, Any]] = field(default_factory=dict)
    dispatch: dict[str, Any] | None = None
    installed: bool = False

    async def read(self) -> None:
        """The versions in force now."""
        page = await self.api.need("registry", "admin", "GET", "/v1/policies", params={"limit": 100})
        for item in page["items"]:
            if not item.get("in_force"):
                continue
            if item["kind"] == "sla":
                self.sla[item["urgency"]] = dict(item["body"])
            elif item["kind"] == "dispatch":
                self.dispatch = dict(item["body"])

    def deadlines(self) -> dict[str, Deadlines]:
        return {urgency: deadlines(body) for urgency, body in self.sla.items()}

    async def install(self) -> None:
        if not self.sla:
            await self.read()
        self.installed = True  # from the first write on, restore puts the originals back
        for urgency, body in self.sla.items():
            await self._put(f"/v1/policies/sla/{urgency}", compressed_sla(body, self.speed))
        if self.dispatch is not None:
            await self._put("/v1/policies/dispatch", compressed_dispatch(self.dispatch, self.speed))
        log.info("simulator.policy_installed", speed=self.speed, urgencies=sorted(self.sla))
        await asyncio.sleep(PROPAGATION_SECONDS)

    async def restore(self) -> None:
        if not self.installed:
            return
        for urgency, body in self.sla.items():
            await self._put(f"/v1/policies/sla/{urgency}", body)
        if self.dispatch is not None:
            await self._put("/v1/policies/dispatch", self.dispatch)
        self.installed = False
        log.info("simulator.policy_restored", urgencies=sorted(self.sla))

    async def _put(self, path: str, body: dict[str, Any]) -> None:
        await self.api.need("registry", "admin", "PUT", path, json=body)
