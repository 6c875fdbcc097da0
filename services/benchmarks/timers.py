"""`whistle bench timers`: SLA's durable timer with a million open clocks — does every clock due in
the next minute breach once, on time, from several SLA replicas, and through a replica's crash?

Seeding: `--clocks` running clocks are copied into `sla.clocks` with their rows in `sla.timers`
(COPY): the rows `repository.clocks.start_clocks` writes — a warning and a breach row per clock,
at `warn_at` and `due_at`. All but `--due` of them are due in one to seven days (their warning an
hour before). The `--due` clocks fall due one after another over `--window` seconds from just after
the load; they stand as warned already (their warning fired before the window), so only their
breach row is pending. The clocks are deleted again at the end.

Then `--replicas` SLA processes (`whistle serve sla`, each running the real `Timer`; a stack
already running adds its own) fire them, and `clock.breached` is read back from `sla.events`:
emitted, missed (due but never emitted), twice (emitted more than once), and the lag after the
deadline — of the instant the timer fired (the event's `at`) and of its arrival at the broker (the
record's timestamp). `--restart-at S` kills one replica (SIGKILL) S seconds into the window and
starts it again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text

from services.benchmarks.stack import Target, stack, wait_ready
from services.benchmarks.tallies import Firings, spread
from shared.db import create_engine, raw_connection
from shared.events import SLA_EVENTS, Envelope

CLOCK_COLUMNS = (
    "clock_id", "complaint_id", "whistle_id", "assignment_id", "unit_code", "department_code",
    "owner_street", "street_code", "district_code", "role", "stage", "status", "reason",
    "started_at", "due_at", "warn_at", "warned_at",
)  # fmt: skip
BATCH = 50_000
LEAD_SECONDS = 3.0  # from the end of the load to the first deadline


def clock_ids(run: str, count: int) -> list[str]:
    return [f"bench-{run}-{n:08d}" for n in range(count)]


def deadlines(start: datetime, *, due: int, window: float) -> list[datetime]:
    """`due` deadlines spread evenly over `window` seconds from `start`."""
    step = window / max(1, due)
    return [start + timedelta(seconds=i * step) for i in range(due)]


def _clock(
    clock_id: str, *, started: datetime, due_at: datetime, warn_at: datetime, warned: bool
) -> tuple[Any, ...]:
    return (
        clock_id, str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), "bench-unit", "bench",
        None, "bench-street", "bench-district", "lead", "sign_off", "running", "",
        started, due_at, warn_at, started if warned else None,
    )  # fmt: skip


async def load_far(database_url: str, ids: list[str]) -> None:
    """Clocks due in one to seven days, with their warning and breach rows (COPY)."""
    engine = create_engine(database_url, pool_size=1)
    now = datetime.now(UTC)
    try:
        for start in range(0, len(ids), BATCH):
            clocks, timers = [], []
            for clock_id in ids[start : start + BATCH]:
                due_at = now + timedelta(seconds=random.uniform(86_400, 7 * 86_400))
                warn_at = due_at - timedelta(hours=1)
                clocks.append(_clock(clock_id, started=now, due_at=due_at, warn_at=warn_at, warned=False))
                timers += [(clock_id, "warning", warn_at), (clock_id, "breach", due_at)]
            async with raw_connection(engine) as conn, conn.transaction():
                await conn.copy_records_to_table(
                    "clocks", schema_name="sla", records=clocks, columns=CLOCK_COLUMNS
                )
                await conn.copy_records_to_table(
                    "timers", schema_name="sla", records=timers, columns=("clock_id", "kind", "fire_at")
                )
    finally:
        await engine.dispose()


async def load_due(database_url: str, ids: list[str], *, window: float) -> dict[str, datetime]:
    """The clocks falling due over the window (from `LEAD_SECONDS` after now); id → due_at."""
    engine = create_engine(database_url, pool_size=1)
    now = datetime.now(UTC)
    due = dict(
        zip(ids, deadlines(now + timedelta(seconds=LEAD_SECONDS), due=len(ids), window=window), strict=True)
    )
    clocks = [_clock(c, started=now, due_at=d, warn_at=now, warned=True) for c, d in due.items()]
    try:
        async with raw_connection(engine) as conn, conn.transaction():
            await conn.copy_records_to_table(
                "clocks", schema_name="sla", records=clocks, columns=CLOCK_COLUMNS
            )
            await conn.copy_records_to_table(
                "timers", schema_name="sla", records=[(c, "breach", d) for c, d in due.items()],
                columns=("clock_id", "kind", "fire_at"),
            )  # fmt: skip
    finally:
        await engine.dispose()
    return due


async def unload(database_url: str, run: str) -> None:
    """Delete the run's clocks, their timer rows and what their breaches counted for."""
    engine = create_engine(database_url, pool_size=1)
    pattern = f"bench-{run}-%"
    try:
        async with engine.begin() as conn:
            for table in ("timers", "measures", "clocks"):
                await conn.execute(text(f"DELETE FROM sla.{table} WHERE clock_id LIKE :p"), {"p": pattern})
    finally:
        await engine.dispose()


class BreachWatch:
    """Reads `sla.events` from its end: each `clock.breached` of the run's clocks."""

    def __init__(self, bootstrap: str, firings: Firings, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.firings = firings
        self.prefix = prefix
        self.read = 0
        self.complete = asyncio.Event()  # every due clock was seen
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        tps = [TopicPartition(SLA_EVENTS, p) for p in sorted(consumer.partitions_for_topic(SLA_EVENTS) or ())]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    envelope = Envelope.decode(record.value)
                    clock_id = str(envelope.payload.get("clock_id", ""))
                    if envelope.type != "clock.breached" or not clock_id.startswith(self.prefix):
                        continue
                    self.read += 1
                    self.firings.note(
                        clock_id,
                        at=datetime.fromisoformat(str(envelope.payload["at"])),
                        emitted=datetime.fromtimestamp(record.timestamp / 1000, UTC),
                        event_id=str(envelope.event_id),
                    )
            if self.firings.due and self.firings.complete():
                self.complete.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._consumer is not None:
            await self._consumer.stop()


async def _restart(target: Target, replicas: list[tuple[Any, str]], at: float, log: list[str]) -> None:
    await asyncio.sleep(LEAD_SECONDS + at)
    proc, url = replicas[0]
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)
    log.append(f"killed the SLA replica at {url} {at:g} s into the window")
    again, again_url = target.spawn("sla", name="sla-restarted")
    replicas[0] = (again, again_url)
    await wait_ready(again_url, again, within=90)
    log.append(f"started it again at {again_url}")


def figures(firings: Firings, *, clocks: int, replicas: int, notes: list[str]) -> dict[str, Any]:
    return {
        "clocks": clocks,
        "due": len(firings.due),
        "replicas": replicas,
        "emitted": firings.emitted,
        "missed": len(firings.missed),
        "twice": len(firings.twice),
        "fired_early": firings.strays,
        "redelivered": firings.redelivered,
        "fired_after_deadline_ms": spread(firings.lags(of="fired"), scale=1000),
        "emitted_after_deadline_ms": spread(firings.lags(of="emitted"), scale=1000),
        "notes": notes,
    }


def _print(report: dict[str, Any]) -> None:
    fired, emitted = report["fired_after_deadline_ms"], report["emitted_after_deadline_ms"]
    print(f"{report['clocks']} open clocks, {report['due']} due, {report['replicas']} SLA replicas")
    for note in report["notes"]:
        print(note)
    print(
        f"emitted: {report['emitted']}, missed: {report['missed']}, twice: {report['twice']} "
        f"— target 0 missed, 0 twice (and {report['redelivered']} copies of an event already read: "
        "the relay's at-least-once delivery, dropped by every consumer's inbox)"
    )
    print(f"fired after deadline: p50 {fired['p50']} ms, p99 {fired['p99']} ms, max {fired['max']} ms")
    print(
        f"on the broker after deadline: p50 {emitted['p50']} ms, p99 {emitted['p99']} ms, "
        f"max {emitted['max']} ms — target p99 < 1000 ms"
    )


async def _run(args: argparse.Namespace) -> int:
    async with stack(
        {"registry": args.registry_url},
        database_url=args.database_url,
        bootstrap=args.bootstrap,
        services=("registry",),
    ) as target:
        if not args.json:
            print(target.describe(), flush=True)
        run = uuid.uuid4().hex[:8]
        ids = clock_ids(run, args.clocks)
        due_ids = ids[: args.due]
        replicas = [target.spawn("sla", name=f"sla-{i}") for i in range(args.replicas)]
        notes: list[str] = [] if target.started else ["(the stack's own SLA runs its timer too)"]
        began = time.perf_counter()
        try:
            await load_far(target.database_url, ids[args.due :])
            await asyncio.gather(*(wait_ready(url, proc, within=90) for proc, url in replicas))
            far = len(ids) - len(due_ids)
            notes.append(f"loaded {far} clocks ({2 * far} timer rows) in {time.perf_counter() - began:.1f} s")
            firings = Firings({})
            watch = BreachWatch(target.bootstrap, firings, f"bench-{run}-")
            await watch.start()
            firings.due = await load_due(target.database_url, due_ids, window=args.window)
            restart = (
                asyncio.create_task(_restart(target, replicas, args.restart_at, notes))
                if args.restart_at is not None
                else None
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.complete.wait(), LEAD_SECONDS + args.window + args.grace)
            await asyncio.sleep(2)  # anything fired twice arrives too
            if restart is not None:
                await restart
            await watch.stop()
        finally:
            await unload(target.database_url, run)
        report = figures(firings, clocks=args.clocks, replicas=args.replicas, notes=notes)
        if args.json:
            print(orjson.dumps(report).decode())
        else:
            _print(report)
        return 0 if report["missed"] == 0 and report["twice"] == 0 else 2


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="whistle bench timers", description=__doc__.split("\n")[0])
    parser.add_argument("--clocks", type=int, default=1_000_000, help="open clocks")
    parser.add_argument("--due", type=int, default=10_000, help="of them, due within the window")
    parser.add_argument("--window", type=float, default=60.0, help="seconds the due clocks are spread over")
    parser.add_argument("--replicas", type=int, default=2, help="SLA processes running the timer")
    parser.add_argument(
        "--restart-at", type=float, default=None, help="kill a replica S s into the window, restart it"
    )
    parser.add_argument(
        "--grace", type=float, default=15.0, help="seconds after the window to wait for stragglers"
    )
    parser.add_argument("--registry-url", default="http://127.0.0.1:8001")
    parser.add_argument("--database-url", default=None, help="SLA's database (default: DATABASE_URL)")
    parser.add_argument("--bootstrap", default=None, help="the broker (default: KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100,000 clocks")
    parser.add_argument("--json", action="store_true", help="print one JSON document, nothing else")
    args = parser.parse_args(argv)
    if args.quick and not any(a.startswith("--clocks") for a in argv):
        args.clocks = 100_000
    args.due = min(args.due, args.clocks)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
