"""`whistle sla rebuild` on the real servers: a few hundred generated complaints handled live (the
consumer loop, the timer firing breaches, the relay publishing them), then SLA rebuilt from the
topics from offset 0 gives the same clocks, timers, measures, scores and rankings."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.sla.handlers import SlaHandlers
from services.sla.models import MESSAGING
from services.sla.periods import period_of
from services.sla.rebuild import Topics, rebuild
from services.sla.settings import SlaSettings
from services.sla.standings import board, score_row
from services.sla.tallies import LEVELS
from services.sla.timers import Timer
from shared.consumer import ConsumerSpec
from shared.events import (
    SLA_EVENTS,
    AssignmentClosed,
    AssignmentExtended,
    AssignmentRef,
    AssignmentReportedBack,
    AssignmentReportedIn,
    AssignmentRerouted,
    AssignmentReturned,
    AssignmentSignedOff,
    ComplaintFeedbackRecorded,
    ComplaintMerged,
    Payload,
    WhistleCompleted,
    WhistleIssued,
    WhistleSuperseded,
    envelope_for,
    utcnow,
)
from shared.kafka import ensure_topics, make_producer
from shared.messaging_tables import Outbox
from shared.runtime import Runtime
from tests.e2e.polling import eventually
from tests.integration.sla.conftest import SlaDb, city_cache, create_issued, fast_city, of

pytestmark = pytest.mark.integration
COMPLAINTS = 300
TABLES = {
    "whistles": "whistle_id",
    "clocks": "clock_id",
    "timers": "clock_id, kind",
    "measures": "key",
}


def later_events(whistle: WhistleIssued, rng: random.Random) -> list[Payload]:
    """What happens to a whistle after it was issued, drawn at random (times relative to issue)."""
    t = whistle.issued_at

    def at(seconds: float) -> datetime:
        return t + timedelta(seconds=seconds)

    lead, done = of(whistle), at(rng.uniform(2, 9))
    completed = WhistleCompleted(
        whistle_id=whistle.whistle_id,
        complaint_id=whistle.complaint_id,
        result="resolved",
        at=done,
        unit_code="d1-zjw",
    )
    feedback = ComplaintFeedbackRecorded(
        complaint_id=whistle.complaint_id,
        category=whistle.category,
        street_code="s1",
        resolved=rng.random() < 0.8,
        satisfaction=rng.choice(["satisfied", "basically_satisfied", "unsatisfied"]),
        at=done + timedelta(seconds=1),
    )
    kind = rng.choice(["handled", "handled", "late", "returned", "extended", "superseded", "merged", "idle"])
    if kind in ("handled", "late"):
        sign_off = at(rng.uniform(0.5, 1.5) if kind == "handled" else rng.uniform(2.5, 4))
        return [
            AssignmentSignedOff(**lead | {"at": sign_off}),
            AssignmentReportedIn(**lead | {"at": sign_off}, kind="contacted"),
            AssignmentReportedBack(**lead | {"at": done}, result="resolved"),
            AssignmentClosed(**of(whistle, 1, at=done), reason="not_needed"),
            completed,
            feedback,
        ]
    if kind == "returned":
        to = AssignmentRef(
            assignment_id=str(uuid.uuid4()), unit_code="d1-sw", department_code="sw", role="lead"
        )
        return [
            AssignmentReturned(**lead | {"at": at(1)}, reason="not_our_duty"),
            AssignmentRerouted(
                whistle_id=whistle.whistle_id,
                complaint_id=whistle.complaint_id,
                from_assignment_id=lead["assignment_id"],
                from_unit_code="d1-zjw",
                to=to,
                reason="not_our_duty",
                at=at(1),
            ),
        ]
    if kind == "extended":
        return [
            AssignmentSignedOff(**lead | {"at": at(1)}),
            AssignmentExtended(**lead | {"at": at(1)}, extension_id=str(uuid.uuid4()), working_days=1),
        ]
    if kind == "superseded":
        return [
            WhistleSuperseded(whistle_id=whistle.whistle_id, complaint_id=whistle.complaint_id, at=at(2.5))
        ]
    if kind == "merged":
        return [
            ComplaintMerged(
                complaint_id=whistle.complaint_id,
                into_complaint_id=str(uuid.uuid4()),
                category=whistle.category,
                street_code="s1",
                reporter_count=2,
                at=at(1),
            )
        ]
    return []


async def publish(producer: Any, topics: Topics, payloads: list[Payload]) -> None:
    for payload in payloads:
        complaint_id = payload.complaint_id  # type: ignore[attr-defined]
        envelope = envelope_for(payload, producer="test", correlation_id=complaint_id)
        topic = topics.complaints if payload.TYPE.startswith("complaint.") else topics.whistles
        await producer.send(topic, envelope.to_bytes(), key=complaint_id.encode())
    await producer.flush()


async def state(sla: SlaDb) -> dict[str, Any]:
    found: dict[str, Any] = {
        table: [tuple(r) for r in await sla.rows(f"SELECT * FROM sla.{table} ORDER BY {order}")]
        for table, order in TABLES.items()
    }
    span = period_of(utcnow()).span()
    async with sla.sessions() as session:
        for level in LEVELS:
            standings = (
                await board(session, span=span, level=level, city=sla.cache.require().index.city)
            ).standings
            found[f"scores/{level}"] = [score_row(s, level) for s in standings]
    return found


async def test_rebuilding_from_the_topics_gives_identical_clocks_tallies_and_scores(
    sla: SlaDb, infra
) -> None:  # type: ignore[no-untyped-def]
    sla.cache = city_cache(fast_city(seconds=2))
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(
        whistles=f"test-whistles-{suffix}", complaints=f"test-complaints-{suffix}", sla_events=SLA_EVENTS
    )
    await ensure_topics(infra.bootstrap_servers, [topics.whistles, topics.complaints], partitions=3)
    handlers = SlaHandlers(sla.cache, Outbox(MESSAGING.outbox, producer="sla"))

    async def timer(runtime: Runtime, stop: asyncio.Event) -> None:
        await Timer(runtime.sessions, handlers.keeper, poll_seconds=0.1).run(stop)

    runtime = Runtime(
        settings=SlaSettings(
            database_url=sla.url,
            kafka_bootstrap_servers=infra.bootstrap_servers,
            consumer_fetch_wait_ms=50,
            outbox_linger_seconds=0.02,
            log_level="WARNING",
        ),
        tables=MESSAGING,
        consumers=[
            ConsumerSpec(
                group=f"sla-{suffix}", topics=[topics.whistles, topics.complaints], handlers=handlers.table()
            )
        ],
        background=[timer],
    )
    rng = random.Random(20261202)
    producer = make_producer(infra.bootstrap_servers, client_id="replay-test")
    await producer.start()
    await runtime.start()
    try:
        start = utcnow()
        whistles = [create_issued(issued_at=start + timedelta(milliseconds=5 * i)) for i in range(COMPLAINTS)]
        later = [e for w in whistles for e in later_events(w, rng)]
        await publish(producer, topics, list(whistles))
        await asyncio.sleep(3)  # sign-offs (2 s) breach meanwhile, fired by the timer
        await publish(producer, topics, later)
        expected = len(whistles) + len(later)

        async def settled() -> bool:
            [(handled,)] = await sla.rows("SELECT count(*) FROM sla.inbox")
            due = await sla.rows("SELECT 1 FROM sla.timers WHERE fire_at <= now() - interval '0.5 s' LIMIT 1")
            unsent = await sla.rows("SELECT 1 FROM sla.outbox WHERE sent_at IS NULL LIMIT 1")
            return handled == expected and not due and not unsent

        await asyncio.sleep(7)  # resolve clocks (6 s) fall due too
        await eventually(settled, seconds=60)
    finally:
        await runtime.stop()
        await producer.stop()
    live = await state(sla)
    assert live["measures"] and live["timers"]  # breaches fired and counted; extended clocks still due
    assert len(live["scores/agency"]) >= 3

    report = await rebuild(
        sessions=sla.sessions, cache=sla.cache, bootstrap=infra.bootstrap_servers, topics=topics
    )
    assert report.applied >= expected
    rebuilt = await state(sla)
    for name in live:
        assert rebuilt[name] == live[name], name
