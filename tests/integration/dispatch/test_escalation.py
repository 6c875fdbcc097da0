"""Escalation from SLA's warnings and breaches on the real PostgreSQL and broker: the ladder of the
dispatch policy, steps due later fired by the job once, skipped when the unit caught up."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from shared.city import CityData, DispatchPolicy, EscalationStep
from shared.consumer import ConsumerSpec, EventConsumer
from shared.events import ClockBreached, ClockWarning, envelope_for, utcnow
from shared.kafka import ensure_topics
from tests.conftest import tiny_city
from tests.integration.dispatch.conftest import DispatchDb
from tests.integration.shared.consumer_helpers import FAST, Running, until

pytestmark = pytest.mark.integration


def with_ladder(*steps: EscalationStep) -> CityData:
    city = tiny_city()
    policies = city.policies.model_copy(update={"dispatch": DispatchPolicy(escalation=list(steps))})
    return city.model_copy(update={"policies": policies})


async def lead_of(dispatch: DispatchDb, complaint_id: str) -> dict[str, Any]:
    async with dispatch.client("viewer") as viewer:
        (whistle,) = (await viewer.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
    return whistle  # type: ignore[no-any-return]


def clock(
    kind: type[ClockBreached] | type[ClockWarning], whistle: dict[str, Any], stage: str, **extra: Any
) -> Any:
    lead = whistle["assignments"][0]
    values: dict[str, Any] = dict(
        clock_id=str(uuid.uuid4()),
        complaint_id=whistle["complaint_id"],
        whistle_id=whistle["id"],
        assignment_id=lead["id"],
        stage=stage,
        unit_code=lead["unit_code"],
        department_code=lead["department_code"],
        due_at=utcnow(),
        at=utcnow(),
    )
    return kind(**(values | extra))


async def test_a_resolve_breach_on_the_topic_has_the_backstop_join_once(
    dispatch: DispatchDb, producer
) -> None:  # type: ignore[no-untyped-def]
    complaint_id = await dispatch.complaint()
    whistle = await lead_of(dispatch, complaint_id)
    breach = clock(ClockBreached, whistle, "resolve", assignment_id=None, unit_code="")
    topic = f"test-sla-{uuid.uuid4().hex[:8]}"
    await ensure_topics(dispatch.runtime.settings.bootstrap_servers, [topic], partitions=1)
    for _ in range(2):  # delivered twice, as after a crash
        envelope = envelope_for(breach, producer="sla", correlation_id=complaint_id)
        await producer.send_and_wait(topic, envelope.to_bytes(), key=complaint_id.encode())
    await producer.send_and_wait(
        topic,
        envelope_for(breach, producer="sla", correlation_id=complaint_id).to_bytes(),
        key=complaint_id.encode(),
    )  # the same breach in a new envelope (SLA re-emitting it): the clock id keeps it once
    spec = ConsumerSpec(
        group=f"g-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers=dispatch.breaches.table(),
        wants=dispatch.breaches.wants,
    )
    consumer = EventConsumer(
        spec,
        service="dispatch",
        bootstrap_servers=dispatch.runtime.settings.bootstrap_servers,
        sessions=dispatch.sessions,
        inbox=dispatch.runtime.tables.inbox,
        dlq_producer=producer,
        tuning=FAST,
    )
    async with Running(consumer):
        await until(lambda: _count(dispatch, complaint_id, "whistle.escalated", 1))
        await asyncio.sleep(1)
    assert (await dispatch.types(complaint_id))[1:] == ["assignment.queued", "whistle.escalated"]
    escalated = (await dispatch.events(complaint_id))[-1].payload
    assert (escalated["action"], escalated["stage"], escalated["step"]) == ("backstop_joins", "resolve", 6)
    whistle = await lead_of(dispatch, complaint_id)
    assert [(a["unit_code"], a["role"]) for a in whistle["assignments"]][-1] == ("d1-backstop", "co")
    assert [(s["action"], s["outcome"]) for s in whistle["escalations"]] == [("backstop_joins", "fired")]


async def test_a_sign_off_breach_reminds_at_once_then_reaches_the_district_command_centre(
    dispatch: DispatchDb,
) -> None:
    dispatch.install(
        with_ladder(
            EscalationStep(when="breached", stage="sign_off", action="remind"),
            EscalationStep(when="breached", stage="sign_off", after="1s", action="district"),
        )
    )
    complaint_id = await dispatch.complaint()
    whistle = await lead_of(dispatch, complaint_id)
    await dispatch.deliver(clock(ClockBreached, whistle, "sign_off"), correlation_id=complaint_id)
    assert await dispatch.types(complaint_id) == ["whistle.issued", "assignment.reminded"]
    reminded = (await dispatch.events(complaint_id))[-1].payload
    assert (reminded["stage"], reminded["cause"], reminded["unit_code"]) == ("sign_off", "breach", "d1-zjw")

    stop = asyncio.Event()
    job = asyncio.create_task(dispatch.breaches.fire_due_steps(dispatch.runtime, stop))
    try:
        await until(lambda: _count(dispatch, complaint_id, "whistle.escalated", 1), seconds=5)
    finally:
        stop.set()
        await asyncio.wait_for(job, 5)
    escalated = (await dispatch.events(complaint_id))[-1].payload
    assert (escalated["action"], escalated["district_code"], escalated["step"]) == ("district", "d1", 2)
    async with dispatch.client("district-d1") as district, dispatch.client("dept-zjw") as zjw:
        queue = (await district.get("/v1/districts/d1/escalations")).json()["items"]
        assert [(e["whistle"]["id"], e["stage"]) for e in queue] == [(whistle["id"], "sign_off")]
        assert (await zjw.get("/v1/districts/d1/escalations")).status_code == 403


async def test_a_step_due_later_is_skipped_once_the_unit_signed_off(dispatch: DispatchDb) -> None:
    dispatch.install(
        with_ladder(EscalationStep(when="breached", stage="sign_off", after="1s", action="district"))
    )
    complaint_id = await dispatch.complaint()
    whistle = await lead_of(dispatch, complaint_id)
    await dispatch.deliver(clock(ClockBreached, whistle, "sign_off"), correlation_id=complaint_id)
    async with dispatch.client("dept-zjw") as zjw:
        assert (
            await zjw.post(f"/v1/assignments/{whistle['assignments'][0]['id']}/sign-off")
        ).status_code == 200
    await asyncio.sleep(1.1)
    async with dispatch.sessions() as session, session.begin():
        assert await dispatch.breaches.fire_due(session) == 1
    assert "whistle.escalated" not in await dispatch.types(complaint_id)
    (step,) = (await lead_of(dispatch, complaint_id))["escalations"]
    assert (step["outcome"], step["detail"]) == ("skipped", "the sign off stage is done")


async def test_a_warning_reminds_the_unit(dispatch: DispatchDb) -> None:
    complaint_id = await dispatch.complaint()
    whistle = await lead_of(dispatch, complaint_id)
    await dispatch.deliver(clock(ClockWarning, whistle, "contact"), correlation_id=complaint_id)
    reminded = (await dispatch.events(complaint_id))[-1]
    assert (reminded.type, reminded.payload["stage"], reminded.payload["cause"]) == (
        "assignment.reminded",
        "contact",
        "warning",
    )


async def _count(dispatch: DispatchDb, complaint_id: str, event_type: str, n: int) -> bool:
    return (await dispatch.types(complaint_id)).count(event_type) >= n
