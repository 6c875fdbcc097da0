"""Background tasks that are restarted when they end, and that say when they have been down too long.

Every long-running part of a service (consumers, the outbox relay, the snapshot follower,
house-keeping, later timers) runs here as a named task made by a factory. When a task raises, or
returns while the service is still running, it is restarted after a capped exponential back-off;
the streak of failures is forgotten once it has run `stable_seconds` without failing. A task counts
as down from its first failure in a streak until it has run stably again, so a task that fails
every time it starts stays down. `/healthz` fails when one has been down longer than the grace
time: a process that cannot do its work gets restarted by whatever runs it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shared.aio import sleep_unless
from shared.consumer_decisions import backoff_seconds
from shared.logging import get_logger
from shared.metrics import TASK_RESTARTS, TASK_UP

log = get_logger(__name__)

TaskFactory = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class _Supervised:
    name: str
    factory: TaskFactory
    task: asyncio.Task[None] | None = None
    failures: int = 0
    started_at: float = 0.0
    down_since: float | None = None  # monotonic time of the first failure of the current streak
    restarts: int = 0


@dataclass
class Supervisor:
    service: str
    base_backoff: float = 0.5
    max_backoff: float = 30.0
    stable_seconds: float = 30.0
    _tasks: dict[str, _Supervised] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _runners: list[asyncio.Task[None]] = field(default_factory=list)

    def spawn(self, name: str, factory: TaskFactory) -> None:
        """Run `factory(stop)` as task `name` until the supervisor stops."""
        if name in self._tasks:
            raise ValueError(f"a task named {name!r} runs already")
        entry = _Supervised(name, factory)
        self._tasks[name] = entry
        TASK_UP.labels(self.service, name).set(0)
        self._runners.append(asyncio.create_task(self._keep_running(entry), name=f"supervise-{name}"))

    async def _keep_running(self, entry: _Supervised) -> None:
        while not self._stop.is_set():
            entry.started_at = time.monotonic()
            entry.task = asyncio.create_task(_call(entry.factory, self._stop), name=entry.name)
            TASK_UP.labels(self.service, entry.name).set(1)
            error: BaseException | None = None
            try:
                await asyncio.shield(entry.task)
            except asyncio.CancelledError:
                if not entry.task.cancelled():  # the supervisor itself is being cancelled
                    entry.task.cancel()
                    raise
                error = asyncio.CancelledError("killed")
            except Exception as exc:
                error = exc
            if self._stop.is_set():
                break
            TASK_UP.labels(self.service, entry.name).set(0)
            now = time.monotonic()
            if now - entry.started_at >= self.stable_seconds:
                entry.failures, entry.down_since = 0, None
            entry.failures += 1
            entry.down_since = entry.down_since or now
            entry.restarts += 1
            TASK_RESTARTS.labels(self.service, entry.name).inc()
            delay = backoff_seconds(entry.failures, base=self.base_backoff, ceiling=self.max_backoff)
            log.error(
                "supervisor.task_failed",
                task=entry.name,
                error=repr(error) if error else "returned",
                failures=entry.failures,
                restart_in=delay,
            )
            await sleep_unless(self._stop, delay)
        TASK_UP.labels(self.service, entry.name).set(0)

    def note_healthy(self) -> None:
        """Forget streaks of tasks that have now run stably (called by health checks)."""
        now = time.monotonic()
        for entry in self._tasks.values():
            running = entry.task is not None and not entry.task.done()
            if running and entry.down_since is not None and now - entry.started_at >= self.stable_seconds:
                entry.failures, entry.down_since = 0, None

    def down_for(self) -> dict[str, float]:
        """Tasks down now (or failing at every start), with how many seconds they have been down."""
        self.note_healthy()
        now = time.monotonic()
        return {e.name: now - e.down_since for e in self._tasks.values() if e.down_since is not None}

    def status(self) -> dict[str, dict[str, object]]:
        down = self.down_for()
        return {
            name: {
                "up": e.task is not None and not e.task.done(),
                "restarts": e.restarts,
                "down_seconds": round(down[name], 1) if name in down else 0,
            }
            for name, e in self._tasks.items()
        }

    def kill(self, name: str) -> None:
        """Cancel a task as if it had crashed (operators and tests): it is restarted."""
        task = self._tasks[name].task
        if task is not None:
            task.cancel()

    async def stop(self, within: float = 10) -> None:
        self._stop.set()
        running = [e.task for e in self._tasks.values() if e.task is not None and not e.task.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=within)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=2)
        for runner in self._runners:
            runner.cancel()
        await asyncio.gather(*self._runners, return_exceptions=True)

    @property
    def stopping(self) -> asyncio.Event:
        return self._stop


async def _call(factory: TaskFactory, stop: asyncio.Event) -> None:
    await factory(stop)
