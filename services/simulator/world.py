"""What every simulated actor shares: the simulated clock, the city, the stack's APIs, the seeded
randomness and the ledger of what was done."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.simulator.api import Api
from services.simulator.places import Places
from services.simulator.summary import Ledger
from services.simulator.workers import DEFAULT_BEHAVIOUR, Behaviour, Deadlines
from shared.city_index import CityIndex
from shared.logging import get_logger

log = get_logger(__name__)


class Stopped(Exception):
    """The run is over: an actor waiting for its next step ends instead."""


class SimClock:
    """Simulated time runs `speed` times faster than the wall clock from the moment it starts.
    Every actor waits through it, so setting `stopping` ends every wait at once."""

    def __init__(self, *, start_local: datetime, speed: float) -> None:
        self.start_local = start_local
        self.speed = speed
        self.started_at = datetime.now(UTC)
        self.stopping = asyncio.Event()
        self._t0 = asyncio.get_running_loop().time()

    def elapsed(self) -> float:
        """Simulated seconds since the start."""
        return (asyncio.get_running_loop().time() - self._t0) * self.speed

    def now_local(self) -> datetime:
        return self.start_local + timedelta(seconds=self.elapsed())

    def offset_of(self, moment: datetime) -> float:
        """A service's timestamp as simulated seconds since the start."""
        return (moment - self.started_at).total_seconds() * self.speed

    def real_at(self, offset: float) -> datetime:
        """The wall-clock instant of a simulated offset."""
        return self.started_at + timedelta(seconds=offset / self.speed)

    async def pause(self, real_seconds: float) -> None:
        """Wait on the wall clock; Stopped when the run ends meanwhile."""
        if self.stopping.is_set():
            raise Stopped
        if real_seconds <= 0:
            return
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=real_seconds)
        except TimeoutError:
            return
        raise Stopped

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time."""
        await self.pause(seconds / self.speed)

    async def until(self, offset: float) -> None:
        await self.sleep(offset - self.elapsed())


@dataclass
class Case:
    """A matter the simulator knows: a complaint it filed or a whistle a street blew."""

    complaint_id: str
    category: str
    urgency: str
    street_code: str
    district_code: str
    round: int = 1
    followed: bool = False
    """Whether units without a claim queue (the street's own, the backstop) may answer it."""


@dataclass
class World:
    api: Api
    clock: SimClock
    index: CityIndex
    places: Places
    deadlines: dict[str, Deadlines]
    rng: random.Random
    clients: frozenset[str]
    behaviour: Behaviour = DEFAULT_BEHAVIOUR
    ledger: Ledger = field(default_factory=Ledger)
    cases: dict[str, Case] = field(default_factory=dict)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `work` as an actor's task; its failure is logged, never the run's end."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    @property
    def stopping(self) -> asyncio.Event:
        return self.clock.stopping

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or isinstance(task.exception(), Stopped | None):
            return
        log.warning("simulator.actor_failed", error=repr(task.exception())[:300])

    async def stop(self, *, grace: float = 30) -> None:
        """Stop every actor: waits end at once, calls in flight are answered (so what the
        services did is in the ledger too); after `grace` seconds what is left is cancelled."""
        self.stopping.set()
        deadline = asyncio.get_running_loop().time() + grace
        while self._tasks:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                for task in list(self._tasks):
                    task.cancel()
            await asyncio.wait(list(self._tasks), timeout=max(left, 1))

    def client_for(self, preferred: str) -> str:
        """The demo client to act as: `preferred` when the city has it, else the admin."""
        return preferred if preferred in self.clients else "admin"

    def deadlines_of(self, urgency: str) -> Deadlines:
        return self.deadlines.get(urgency) or self.deadlines["normal"]
