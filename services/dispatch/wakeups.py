"""Wake-ups on commit: long-polling claims and the escalation job sleep until a commit signals them.

One connection per process LISTENs on `repository.signals.CHANNEL` (a supervised background job)
and turns each notification into an asyncio event: `work:<department>` for claims waiting on that
department's queue, `steps` for the escalation job. Nothing is polled in a loop: a waiter sleeps
until its event, or until a time it computed (a lease running out, a step falling due). While the
listening connection is down, waiters look again at least every `FALLBACK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from services.dispatch.repository.signals import CHANNEL, STEPS, WORK
from shared.aio import sleep_unless
from shared.logging import get_logger

log = get_logger(__name__)

FALLBACK_SECONDS = 1.0


class Wakeups:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self.listening = False

    def event(self, topic: str) -> asyncio.Event:
        """The event the next signal of `topic` sets: take it *before* looking for work, then wait on
        it, so a commit between the look and the wait is not missed."""
        event = self._events.get(topic)
        if event is None:
            event = self._events[topic] = asyncio.Event()
        return event

    def work_event(self, department_code: str) -> asyncio.Event:
        return self.event(WORK + department_code)

    def steps_event(self) -> asyncio.Event:
        return self.event(STEPS)

    def signal(self, topic: str) -> None:
        event = self._events.pop(topic, None)
        if event is not None:
            event.set()

    def signal_all(self) -> None:
        """Wake every waiter (the listener reconnected: signals may have been missed)."""
        events, self._events = self._events, {}
        for event in events.values():
            event.set()

    async def wait(self, event: asyncio.Event, seconds: float, *, stop: asyncio.Event | None = None) -> None:
        """Sleep until the event (or `stop`) is set or `seconds` pass (at most the fallback while
        not listening)."""
        if not self.listening:
            seconds = min(seconds, FALLBACK_SECONDS)
        if seconds <= 0 or event.is_set() or (stop is not None and stop.is_set()):
            return
        if stop is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=seconds)
            return
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.signal(payload)

    async def listen(self, runtime: Any, stop: asyncio.Event) -> None:
        """A runtime background job: hold the LISTEN connection; fail (and be restarted) when it drops."""
        url = runtime.settings.db_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(url)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._on_notify)
            self.listening = True
            self.signal_all()
            log.info("dispatch.listening", channel=CHANNEL)
            while not stop.is_set() and not lost.is_set():
                await sleep_unless(stop, 5.0)
                if not stop.is_set() and not lost.is_set():
                    await connection.execute("SELECT 1")  # a dead connection shows here
            if lost.is_set() and not stop.is_set():
                raise ConnectionError("the LISTEN connection was lost")
        finally:
            self.listening = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2)
