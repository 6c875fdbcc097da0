"""A consumer in a process of its own (so a test can freeze it with SIGSTOP), writing the effects of
a playground schema. It prints `holding` when it has fetched a batch with snapshot_version 1 and
holds it (outside any transaction) for `--hold` seconds, then handles it.

    python -m tests.integration.shared.consumer_process DATABASE_URL SCHEMA BOOTSTRAP TOPIC GROUP --hold 3
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from shared.consumer import ConsumerTuning, Delivery
from shared.db import create_engine, sessionmaker
from shared.kafka import make_producer
from tests.integration.conftest import Playground, playground_tables
from tests.integration.shared.consumer_helpers import make_consumer, recording_handler


async def main(args: argparse.Namespace) -> None:
    _, tables, effects = playground_tables(args.schema)
    engine = create_engine(args.database_url, pool_size=2)
    playground = Playground(engine, sessionmaker(engine), tables, effects, args.topic, args.bootstrap)
    producer = make_producer(args.bootstrap, client_id="consumer-process")
    await producer.start()

    async def hold_version_1(batch: Sequence[Delivery]) -> None:
        if any(d.payload is not None and getattr(d.payload, "snapshot_version", None) == 1 for d in batch):
            print("holding", flush=True)
            await asyncio.sleep(args.hold)

    tuning = ConsumerTuning(
        fetch_wait_ms=50, poll_timeout_ms=200, session_timeout_ms=args.session_ms, heartbeat_interval_ms=500
    )
    consumer = make_consumer(
        playground,
        producer,
        recording_handler(playground),
        group=args.group,
        tuning=tuning,
        prepare=hold_version_1,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("started", flush=True)
    await consumer.run(stop)
    await producer.stop()
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("database_url", "schema", "bootstrap", "topic", "group"):
        parser.add_argument(name)
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--session-ms", type=int, default=6000)
    asyncio.run(main(parser.parse_args()))
