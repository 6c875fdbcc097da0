"""`whistle sla rebuild`: SLA's state made again from the topics.

Stop every SLA process first (their timers must not fire while the clocks are rebuilt), then:

1. the derived tables are emptied (`repository.maintenance.DERIVED`; the streets' evaluations,
   closed periods and published scores, the audit log and the outbox are kept: no topic holds them);
2. `dispatch.whistles`, `intake.complaints` and `sla.events` are read from offset 0 to their end
   (until nothing more comes), and merged into one stream by `occurred_at` (each partition keeps
   its order);
3. each event goes to the same handler the live consumer uses, with the policies in force at its
   time (the registry snapshot holds every version), in one transaction per batch, recorded in the
   inbox; SLA's own `clock.warning` / `clock.breached` put their instants back on the clocks, so
   nothing fires twice; nothing is published while rebuilding.

Clocks still due keep their timer rows and fire when SLA starts again. The result is the same
clocks, measures (tallies), scores and rankings as before.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.handlers import SlaHandlers
from services.sla.models import MESSAGING
from services.sla.repository.maintenance import empty_derived
from services.sla.settings import SlaSettings
from shared.db import create_engine, sessionmaker
from shared.events import (
    COMPLAINTS,
    SLA_EVENTS,
    WHISTLES,
    Envelope,
    Payload,
    UndecodableEvent,
    UnknownEventVersion,
    parse_payload,
)
from shared.kafka import read_from_start
from shared.logging import configure_logging, get_logger
from shared.messaging_tables import first_seen
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)
QUIET_SECONDS = 1.5  # how long a read partition stays quiet before it counts as read to its end
CONSUMER = "sla"  # the live consumer group's inbox name: events it meets again are skipped


class NoEvents:
    """The event sink while rebuilding: what was announced once is not announced again."""

    async def add(self, session: AsyncSession, payload: Payload, *, correlation_id: str) -> None:
        return None


@dataclass(frozen=True)
class Topics:
    whistles: str = WHISTLES
    complaints: str = COMPLAINTS
    sla_events: str = SLA_EVENTS

    def all(self) -> tuple[str, ...]:
        return (self.whistles, self.complaints, self.sla_events)


@dataclass
class Report:
    read: int = 0
    applied: int = 0
    repeated: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Item:
    occurred_at: datetime
    envelope: Envelope
    payload: Payload


async def read_history(bootstrap: str, topics: Sequence[str], report: Report) -> list[list[_Item]]:
    """Every decodable event of the topics to their end (see `read_from_start`), one list per partition."""
    lists: list[list[_Item]] = []
    for records in (await read_from_start(bootstrap, topics, quiet_seconds=QUIET_SECONDS)).values():
        items: list[_Item] = []
        for record in records:
            _collect(items, record, report)
        lists.append(items)
    return lists


def _collect(into: list[_Item], record: Any, report: Report) -> None:
    report.read += 1
    try:
        envelope = Envelope.decode(record.value)
        payload = parse_payload(envelope)
    except (UndecodableEvent, UnknownEventVersion, ValueError) as exc:
        # The live consumer dead-letters these: they never had an effect.
        report.skipped[type(exc).__name__] = report.skipped.get(type(exc).__name__, 0) + 1
        return
    into.append(_Item(envelope.occurred_at, envelope, payload))


def in_time_order(partitions: Sequence[list[_Item]]) -> Iterator[_Item]:
    """One stream by `occurred_at`; each partition's own order is kept."""
    return heapq.merge(*partitions, key=lambda item: item.occurred_at)


async def rebuild(
    *,
    sessions: async_sessionmaker[AsyncSession],
    cache: SnapshotCache,
    bootstrap: str,
    topics: Topics | None = None,
    batch_size: int = 500,
) -> Report:
    started = time.monotonic()
    report = Report()
    handlers = SlaHandlers(cache, NoEvents())
    table = {key if isinstance(key, str) else key.TYPE: h for key, h in handlers.replay_table().items()}
    history = await read_history(bootstrap, (topics or Topics()).all(), report)
    async with sessions() as session, session.begin():
        await empty_derived(session)
    wanted = (item for item in in_time_order(history) if item.envelope.type in table)
    while chunk := [item for _, item in zip(range(batch_size), wanted, strict=False)]:
        async with sessions() as session, session.begin():
            events = [(i.envelope.event_id, i.envelope.type) for i in chunk]
            new = await first_seen(session, MESSAGING.inbox, consumer=CONSUMER, events=events)
            for item in chunk:
                if item.envelope.event_id not in new:
                    report.repeated += 1
                    continue
                await table[item.envelope.type](session, item.payload, item.envelope)
                report.applied += 1
    report.seconds = time.monotonic() - started
    return report


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="whistle sla rebuild", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--yes", action="store_true", help="really empty SLA's derived tables and rebuild them"
    )
    parser.add_argument("--batch", type=int, default=500, help="events per transaction")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> Report:
    settings = SlaSettings()
    cache = SnapshotCache(settings.registry_url)
    cache.bind_credentials(settings)
    await asyncio.wait_for(cache.load_until_ready(), timeout=60)
    engine = create_engine(settings.db_url, pool_size=2)
    try:
        return await rebuild(
            sessions=sessionmaker(engine),
            cache=cache,
            bootstrap=settings.bootstrap_servers,
            batch_size=args.batch,
        )
    finally:
        await engine.dispose()
        await cache.close()


def main(argv: list[str]) -> int:
    args = parse(argv)
    if not args.yes:
        print("whistle sla rebuild: stop every SLA process, then run again with --yes", file=sys.stderr)
        return 2
    configure_logging("sla-rebuild", "WARNING")
    report = asyncio.run(_main(args))
    print(
        f"rebuilt SLA from {report.read} records: {report.applied} events applied, {report.repeated} repeats "
        f"skipped, {sum(report.skipped.values())} undecodable or unknown, in {report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
