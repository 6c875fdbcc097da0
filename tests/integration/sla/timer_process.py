"""An SLA replica's timer and outbox relay in a process of their own (so a test can kill -9 it):

    python -m tests.integration.sla.timer_process DATABASE_URL BOOTSTRAP

It prints `started` once running, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from services.sla.handlers import SlaHandlers
from services.sla.models import MESSAGING
from services.sla.settings import SlaSettings
from services.sla.timers import Timer
from shared.messaging_tables import Outbox
from shared.runtime import Runtime
from shared.snapshot_cache import SnapshotCache


async def main(database_url: str, bootstrap: str) -> None:
    settings = SlaSettings(
        database_url=database_url, kafka_bootstrap_servers=bootstrap, timer_poll_seconds=0.1
    )
    handlers = SlaHandlers(SnapshotCache("http://registry.invalid"), Outbox(MESSAGING.outbox, producer="sla"))

    async def timer(runtime: Runtime, stop: asyncio.Event) -> None:
        await Timer(runtime.sessions, handlers.keeper, poll_seconds=0.1, batch_size=50).run(stop)

    runtime = Runtime(settings=settings, tables=MESSAGING, background=[timer])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await runtime.start()
    print("started", flush=True)
    await stop.wait()
    await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
