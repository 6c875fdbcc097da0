"""`whistle bench pipeline`: complaints through the whole pipeline at fixed rates — how long from
filing until the assignment is in a department's queue, the highest rate the pipeline sustains, and
the CPU each part of the stack spends per complaint.

Against a running stack (`whistle up`, or real servers at the URLs given). For each rate it files
complaints for `--seconds` (open loop, as `whistle bench intake` does), waits for the pipeline to
drain, and reads `dispatch.whistles`: a complaint is queued when dispatch issued its whistle (its
assignments committed, visible in the queue). CPU is read from /proc for the stack's processes,
with the cost of the idle stack (measured first) subtracted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.benchmarks.cpu import Sample, per_second, sample
from services.intake.bench import Load, add_stack_options, setup
from shared.events import WHISTLES, Envelope
from shared.settings import InfraSettings


@dataclass
class Round:
    rate: int
    filed: dict[str, float] = field(default_factory=dict)  # complaint id → when due (wall clock)
    queued: dict[str, float] = field(default_factory=dict)  # complaint id → seconds filed → queued
    accepted_per_second: float = 0.0
    cpu_ms: dict[str, float] = field(default_factory=dict)

    def note_filed(self, complaint_id: str, due: float) -> None:
        self.filed[complaint_id] = _wall(due)

    def percentile(self, p: float) -> float:
        values = sorted(self.queued.values())
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    @property
    def lost(self) -> int:
        return len(set(self.filed) - set(self.queued))

    def sustained(self, p99_seconds: float) -> bool:
        return bool(self.filed) and self.lost == 0 and self.percentile(99) < p99_seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "accepted_per_second": round(self.accepted_per_second, 1),
            "filed": len(self.filed),
            "queued": len(self.queued),
            "filed_to_queued_p50_ms": round(self.percentile(50) * 1000, 1),
            "filed_to_queued_p99_ms": round(self.percentile(99) * 1000, 1),
            "cpu_ms_per_complaint": {k: round(v, 2) for k, v in self.cpu_ms.items()},
        }


class QueueWatch:
    """Reads `dispatch.whistles` from its end: when each complaint's whistle was issued."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.issued: dict[str, float] = {}  # complaint id → issued_at (epoch seconds)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        partitions = consumer.partitions_for_topic(WHISTLES) or set()
        tps = [TopicPartition(WHISTLES, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    envelope = Envelope.decode(record.value)
                    if envelope.type == "whistle.issued":
                        issued = datetime.fromisoformat(str(envelope.payload["issued_at"]))
                        self.issued.setdefault(envelope.correlation_id, issued.timestamp())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._consumer is not None:
            await self._consumer.stop()


async def _run(args: argparse.Namespace) -> int:
    token, communities, categories = await setup(args)
    bootstrap = args.bootstrap or InfraSettings().kafka_bootstrap_servers
    watch = QueueWatch(bootstrap)
    await watch.start()
    port = urlsplit(args.url).port or 80
    idle = await _idle_cost(port, args.idle) if args.idle > 0 else {}
    rounds: list[Round] = []
    if not args.json:
        print(f"pipeline at {args.url} (broker {bootstrap}); idle stack: " + _idle_line(idle))
        columns = ("rate/s", 7), ("accepted/s", 10), ("filed", 6), ("queued", 6), ("p50 ms", 8), ("p99 ms", 8)
        print(" ".join(f"{name:>{width}}" for name, width in columns) + "  cpu ms/complaint")
    try:
        for rate in args.rates:
            current = Round(rate)
            load = Load(args.url, token, communities, categories, on_accepted=current.note_filed)
            before = sample(port)
            step = await load.step(rate, args.seconds, args.connections)
            current.accepted_per_second = step.accepted / step.elapsed if step.elapsed else 0.0
            await _drain(watch, current, args.drain)
            after = sample(port)
            current.cpu_ms = _cpu_ms(before, after, idle, len(current.filed))
            rounds.append(current)
            if not args.json:
                print(_line(current), flush=True)
            if args.stop_on_failure and not current.sustained(args.p99_ms / 1000):
                break
    finally:
        await watch.stop()
    best = max((r for r in rounds if r.sustained(args.p99_ms / 1000)), key=lambda r: r.rate, default=None)
    if args.json:
        print(orjson.dumps({"rounds": [r.as_dict() for r in rounds], "idle_core_share": idle,
                            "highest_sustained_rate": best.rate if best else None}).decode())  # fmt: skip
    elif best is None:
        print(f"no rate kept filed → queued p99 under {args.p99_ms:g} ms with nothing left behind")
    else:
        p99 = best.percentile(99) * 1000
        print(f"highest rate with filed → queued p99 < {args.p99_ms:g} ms: {best.rate}/s (p99 {p99:.0f} ms)")
    return 0 if best is not None else 2


_EPOCH_OFFSET = time.time() - time.perf_counter()


def _wall(perf: float) -> float:
    return perf + _EPOCH_OFFSET


async def _drain(watch: QueueWatch, current: Round, seconds: float) -> None:
    """Wait until every filed complaint is queued, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(cid in watch.issued for cid in current.filed):
            break
        await asyncio.sleep(0.2)
    for cid, due in current.filed.items():
        if cid in watch.issued:
            current.queued[cid] = max(0.0, watch.issued[cid] - due)


async def _idle_cost(port: int, seconds: float) -> dict[str, float]:
    first = sample(port)
    await asyncio.sleep(seconds)
    return per_second(first, sample(port))


def _cpu_ms(before: Sample, after: Sample, idle: dict[str, float], complaints: int) -> dict[str, float]:
    if not complaints:
        return {}
    wall = after.at - before.at
    used = {
        part: (after.seconds.get(part, 0.0) - before.seconds.get(part, 0.0) - idle.get(part, 0.0) * wall)
        * 1000
        / complaints
        for part in after.seconds
    }
    used["total"] = sum(used.values())
    return dict(sorted(used.items()))


def _line(r: Round) -> str:
    cpu = " ".join(f"{part} {ms:.1f}" for part, ms in r.cpu_ms.items())
    return (
        f"{r.rate:>7} {r.accepted_per_second:>10.0f} {len(r.filed):>6} {len(r.queued):>6}"
        f" {r.percentile(50) * 1000:>8.0f} {r.percentile(99) * 1000:>8.0f}  {cpu}"
    )


def _idle_line(idle: dict[str, float]) -> str:
    return (
        ", ".join(f"{part} {share * 100:.1f}% of a core" for part, share in sorted(idle.items()))
        or "not measured"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="whistle bench pipeline", description=__doc__.split("\n")[0])
    add_stack_options(parser, rates="20,50,100,150,200")
    parser.add_argument("--bootstrap", default=None, help="the broker (default: KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--seconds", type=float, default=20.0, help="filing time of each round")
    parser.add_argument("--drain", type=float, default=20.0, help="longest wait for a round to be queued")
    parser.add_argument(
        "--idle", type=float, default=10.0, help="seconds to measure the idle stack (0: skip)"
    )
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections to intake")
    parser.add_argument("--p99-ms", type=float, default=1000.0, help="the filed → queued target")
    parser.add_argument("--stop-on-failure", action="store_true", help="stop at the first rate that misses")
    parser.add_argument("--json", action="store_true", help="print one JSON document, nothing else")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
