"""What this machine can do at all, measured with the parts the services are built from and nothing
of the services themselves — the raw limits `whistle bench` sets each figure beside:

- FastAPI on uvicorn taking intake's complaint body, validated, with no database
  (`limits_app`), and the same plus one committed asyncpg transaction inserting a complaint row and
  an outbox row: the highest rate within p99 < 50 ms, found as intake's is (`ramp`);
- asyncpg single-row commits: `connections` connections inserting one row per transaction, as fast
  as they can, for `seconds`;
- aiokafka producing `count` messages of 1 KB (acks=all) and consuming them again, per second.

Scratch tables live in the `bench_limits` schema and a scratch topic `bench.limits.<run>`; both are
removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.benchmarks.limits_app import SCHEMA, plain_dsn
from services.benchmarks.ramp import Found, Ramp, highest_rate
from services.benchmarks.stack import answers
from services.intake.bench import Load
from shared.embedded import _die_with_parent, free_port

MESSAGE_BYTES = 1024
WARMUP_SECONDS = 2.0


async def http_limit(
    *, database_url: str | None, communities: list[str], categories: list[str], ramp: Ramp, log: Path
) -> Found:
    """The highest rate the bare FastAPI server takes complaints at (with `database_url`: and
    commits each)."""
    port = free_port()
    proc = _start_server(port, database_url, log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not await answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the raw-limit server did not start (see {log})")
            await asyncio.sleep(0.2)
        load = Load(url, "none", communities, categories)
        await load.step(
            ramp.start, WARMUP_SECONDS, ramp.connections
        )  # connections opened, code warm: not counted
        return await highest_rate(load, ramp)
    finally:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if database_url:
            await _drop_schema(database_url)


def _start_server(port: int, database_url: str | None, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LIMITS_PORT": str(port), "LIMITS_DATABASE_URL": database_url or ""}
    return subprocess.Popen(
        [sys.executable, "-m", "services.benchmarks.limits_app"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: _die_with_parent(signal.SIGTERM),
    )


async def _drop_schema(database_url: str) -> None:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    finally:
        await conn.close()


async def single_row_commits(database_url: str, *, seconds: float, connections: int = 32) -> float:
    """Committed single-row inserts per second, `connections` at a time."""
    dsn = plain_dsn(database_url)
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}; "
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.commits (id bigserial PRIMARY KEY, v text NOT NULL)"
    )
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    done = 0
    stop_at = 0.0

    async def writer() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            statement = await conn.prepare(f"INSERT INTO {SCHEMA}.commits (v) VALUES ($1)")
            while time.perf_counter() < stop_at:
                await statement.fetch("x" * 64)
                done += 1

    try:
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(*(writer() for _ in range(connections)))
        return done / (time.perf_counter() - started)
    finally:
        await pool.close()
        await setup.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await setup.close()


async def kafka_rates(bootstrap: str, *, count: int, partitions: int = 6) -> tuple[float, float]:
    """Messages of 1 KB per second produced (acks=all, batched as the relay batches) and consumed."""
    topic = f"bench.limits.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        produced = await _produce(bootstrap, topic, count)
        consumed = await _consume(bootstrap, topic, count, partitions)
    finally:
        with contextlib.suppress(Exception):  # a broker that cannot delete topics keeps the scratch one
            await admin.delete_topics([topic])
        await admin.close()
    return produced, consumed


async def _produce(bootstrap: str, topic: str, count: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=262_144)
    await producer.start()
    value = b"x" * MESSAGE_BYTES
    try:
        started = time.perf_counter()
        pending = [await producer.send(topic, value, key=str(i % 997).encode()) for i in range(count)]
        await asyncio.gather(*pending)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int, partitions: int) -> float:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4_194_304,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)  # from the first offset (not the broker's idea of the earliest)
        seen = 0
        started = time.perf_counter()
        deadline = started + 120
        while seen < count and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(records) for records in batch.values())
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()
