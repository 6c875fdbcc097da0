"""Intake's `/v1` API on the running stack: filing, reading, the follow-up call, the audited
contact read, bad input, and residents' data kept off Kafka and out of the logs."""

from __future__ import annotations

import random
import uuid
from typing import Any

import asyncpg
import pytest

from shared.events import ALL_TOPICS, dlq_topic
from tests import builders
from tests.builders import read_topics
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e

NAME, PHONE, EMAIL, ADDRESS = "王小明", "13912345678", "wxm@example.cn", "二街道幸福里7号楼3单元"


def random_point() -> dict[str, float]:
    """A point in street s2, away from the points other tests use, so nothing merges by accident."""
    return {
        "lat": round(random.uniform(39.9105, 39.9195), 6),
        "lon": round(random.uniform(116.4005, 116.4195), 6),
    }


def create_complaint(**overrides: Any) -> dict[str, Any]:
    """A complaint carrying every kind of residents' data, somewhere in the test city's s1-02."""
    full = {
        "description": "楼顶私搭乱建，施工噪音扰民 🏗️🔨 «ünïcödé»",
        "location": {**random_point(), "address": ADDRESS},
        "reporter": {"name": NAME, "phone": PHONE, "email": EMAIL},
    }
    return builders.create_complaint(**(full | overrides))


async def db_count(infra, sql: str, *args: Any) -> int:  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(infra.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def read_all_topics(bootstrap: str) -> list[bytes]:
    """Every message on every topic (and DLQ) so far, with its headers."""
    topics = [t for topic in ALL_TOPICS for t in (topic, dlq_topic(topic))]
    records = await read_topics(bootstrap, *topics, seconds=30, quiet_polls=3)
    return [(r.value or b"") + b"".join(v for _, v in r.headers or []) for r in records]


async def resolve_by_department(stack, complaint_id: str, department: str = "zjw") -> None:  # type: ignore[no-untyped-def]
    """The lead department signs off and reports back resolved, as its worker app would."""
    async with stack.client("dispatch", as_client=f"dept-{department}") as dispatch:

        async def queued() -> dict[str, Any] | None:
            items = (await dispatch.get(f"/v1/departments/{department}/queue")).json()["items"]
            return next((a for a in items if a["complaint_id"] == complaint_id and a["role"] == "lead"), None)

        assignment = await eventually(queued)
        assert (await dispatch.post(f"/v1/assignments/{assignment['id']}/sign-off")).status_code == 200
        back = await dispatch.post(
            f"/v1/assignments/{assignment['id']}/report-back", json={"result": "resolved", "note": "已拆除"}
        )
        assert back.status_code == 200, back.text


async def status_is(intake, complaint_id: str, wanted: str) -> bool:  # type: ignore[no-untyped-def]
    return (await intake.get(f"/v1/complaints/{complaint_id}")).json()["status"] == wanted


async def test_a_complaint_round_trips_unicode_and_shows_residents_data_masked(stack) -> None:  # type: ignore[no-untyped-def]
    async with (
        stack.client("intake", as_client="hotline") as intake,
        stack.client("intake", as_client="viewer") as viewer,
    ):
        body = create_complaint(
            category="garbage_piling",
            attributes={"volume": "large", "kinds": ["household", "bulky"]},
            media_urls=["https://img.example.cn/垃圾.jpg"],
            urgency="urgent",
        )
        filed = await intake.post("/v1/complaints", json=body)
        assert filed.status_code == 201, filed.text
        assert filed.headers["location"] == f"/v1/complaints/{filed.json()['id']}"
        complaint = (await viewer.get(f"/v1/complaints/{filed.json()['id']}")).json()
        assert complaint["description"] == body["description"]
        assert complaint["attributes"] == {"volume": "large", "kinds": ["household", "bulky"]}
        assert complaint["urgency"] == "urgent" and complaint["street_code"] == "s2"
        assert complaint["place"].startswith("东区二街道")
        assert complaint["reporter"] == {"name": "王**", "phone": "139****5678"}
        assert NAME not in filed.text and PHONE not in filed.text and EMAIL not in filed.text
        assert ADDRESS not in filed.text and complaint["address"].startswith("二街道")

        listed = (
            await viewer.get("/v1/complaints", params={"category": "garbage_piling", "street": "s2"})
        ).json()
        assert complaint["id"] in [c["id"] for c in listed["items"]]
        timeline = (await viewer.get(f"/v1/complaints/{complaint['id']}/timeline")).json()
        assert timeline[0]["status"] == "received" and timeline[0]["note"] == "您的诉求已受理"


async def test_the_list_pages_with_a_cursor_and_filters(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        ids = []
        for _ in range(5):
            filed = await intake.post(
                "/v1/complaints", json=create_complaint(category="heating", urgency="complex")
            )
            ids.append(filed.json()["id"])
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"category": "heating", "limit": 2, "status": "received,dispatched"}
            if cursor:
                params["cursor"] = cursor
            page = (await intake.get("/v1/complaints", params=params)).json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert set(ids) <= set(seen) and len(seen) == len(set(seen))
        assert (await intake.get("/v1/complaints", params={"status": "bogus"})).status_code == 400
        assert (await intake.get("/v1/complaints", params={"cursor": "!!"})).status_code == 400


async def test_a_street_client_sees_only_its_own_street(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        filed = (await intake.post("/v1/complaints", json=create_complaint())).json()
    async with (
        stack.client("intake", as_client="street-s1") as s1,
        stack.client("intake", as_client="street-s2") as s2,
    ):
        assert (await s1.get(f"/v1/complaints/{filed['id']}")).status_code == 404
        assert (await s2.get(f"/v1/complaints/{filed['id']}")).status_code == 200
        assert (await s1.get("/v1/complaints", params={"street": "s2"})).status_code == 403
        assert all(c["street_code"] == "s2" for c in (await s2.get("/v1/complaints")).json()["items"])


async def test_an_idempotency_key_makes_a_reference_free_source_safe_to_retry(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        body = create_complaint(source="web")
        del body["source_ref"]
        assert (await intake.post("/v1/complaints", json=body)).status_code == 422  # neither given
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await intake.post("/v1/complaints", json=body, headers=key)
        again = await intake.post("/v1/complaints", json=body, headers=key)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        changed = await intake.post("/v1/complaints", json={**body, "description": "别的"}, headers=key)
        assert changed.status_code == 409 and changed.json()["existing_id"] == first.json()["id"]


async def test_bad_input_is_refused_clearly_and_leaves_no_row_and_no_event(stack, infra) -> None:  # type: ignore[no-untyped-def]
    marker = f"bad-{uuid.uuid4().hex}"
    async with stack.client("intake", as_client="hotline") as intake:
        cases = {
            "oversized": await intake.post(
                "/v1/complaints", json=create_complaint(description=marker + "x" * 70_000)
            ),
            "malformed": await intake.post(
                "/v1/complaints",
                content=b'{"source": "hotline", ' + marker.encode(),
                headers={"content-type": "application/json"},
            ),
            "unknown category": await intake.post(
                "/v1/complaints", json=create_complaint(category="ufo", description=marker)
            ),
            "bad attribute": await intake.post(
                "/v1/complaints",
                json=create_complaint(
                    category="garbage_piling", attributes={"volume": "enormous"}, description=marker
                ),
            ),
            "outside the city": await intake.post(
                "/v1/complaints",
                json=create_complaint(location={"lat": 31.23, "lon": 121.47}, description=marker),
            ),
            "too long": await intake.post(
                "/v1/complaints", json=create_complaint(description=marker + "长" * 4000)
            ),
            "address alone": await intake.post(
                "/v1/complaints", json=create_complaint(location={"address": "某处"}, description=marker)
            ),
        }
        statuses = {name: r.status_code for name, r in cases.items()}
        assert statuses == {
            "oversized": 413,
            "malformed": 422,
            "unknown category": 422,
            "bad attribute": 422,
            "outside the city": 422,
            "too long": 422,
            "address alone": 422,
        }
        assert all(r.headers["content-type"] == "application/problem+json" for r in cases.values())
        assert "JSON" in cases["malformed"].json()["errors"][0]["message"]
        assert "enormous" in cases["bad attribute"].json()["errors"][0]["message"]
        assert cases["too long"].json()["errors"][0]["field"] == "body.description"
        unauthenticated = await intake.post(
            "/v1/complaints", json=create_complaint(description=marker), headers={"Authorization": ""}
        )
        assert unauthenticated.status_code == 401
    assert (
        await db_count(
            infra, "SELECT count(*) FROM intake.complaints WHERE description LIKE $1", f"%{marker}%"
        )
        == 0
    )
    assert not [m for m in await read_all_topics(infra.bootstrap_servers) if marker.encode() in m]


async def test_follow_up_closes_a_resolved_complaint_or_reopens_it_for_dispatch(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        happy = (await intake.post("/v1/complaints", json=create_complaint())).json()
        unhappy = (await intake.post("/v1/complaints", json=create_complaint())).json()
        early = await intake.post(
            f"/v1/complaints/{happy['id']}/feedback", json={"resolved": True, "satisfaction": "satisfied"}
        )
        assert early.status_code == 409  # not resolved yet
        for complaint in (happy, unhappy):
            await resolve_by_department(stack, complaint["id"])
            await eventually(lambda c=complaint: status_is(intake, c["id"], "resolved"))

        closed = await intake.post(
            f"/v1/complaints/{happy['id']}/feedback",
            json={"resolved": True, "satisfaction": "basically_satisfied", "comment": "基本满意"},
        )
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        reopened = await intake.post(
            f"/v1/complaints/{unhappy['id']}/feedback",
            json={"resolved": False, "satisfaction": "unsatisfied"},
        )
        assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
        # Dispatch handles it again: a new whistle puts it back to dispatched.
        await eventually(lambda: status_is(intake, unhappy["id"], "dispatched"))
        timeline = (await intake.get(f"/v1/complaints/{unhappy['id']}/timeline")).json()
        assert [t["status"] for t in timeline] == [
            "received",
            "dispatched",
            "in_progress",
            "resolved",
            "reopened",
            "dispatched",
        ]
        assert timeline[1]["unit_name"] == "东区住建委" and "东区住建委" in timeline[1]["note"]


async def test_the_contact_is_read_only_by_units_handling_the_complaint_and_every_read_is_audited(
    stack, infra
) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        complaint = (await intake.post("/v1/complaints", json=create_complaint())).json()
        assert (await intake.get(f"/v1/complaints/{complaint['id']}/contact")).status_code == 403  # no scope
    async with stack.client("intake", as_client="dept-zjw") as zjw:
        await eventually(lambda: status_is(zjw, complaint["id"], "dispatched"))
    answers = {}
    for client in ("dept-zjw", "dept-sw", "street-s2", "street-s1"):
        async with stack.client("intake", as_client=client) as reader:
            answers[client] = await reader.get(f"/v1/complaints/{complaint['id']}/contact")
    assert {c: r.status_code for c, r in answers.items()} == {
        "dept-zjw": 200,
        "dept-sw": 403,
        "street-s2": 200,
        "street-s1": 403,
    }
    assert answers["dept-zjw"].json() == {
        "complaint_id": complaint["id"],
        "name": NAME,
        "phone": PHONE,
        "email": EMAIL,
        "address": ADDRESS,
    }
    audited = await db_count(
        infra, "SELECT count(*) FROM intake.contact_reads WHERE complaint_id = $1", complaint["id"]
    )
    granted = await db_count(
        infra,
        "SELECT count(*) FROM intake.contact_reads WHERE complaint_id = $1 AND granted",
        complaint["id"],
    )
    assert (audited, granted) == (4, 2)


async def test_residents_data_never_reaches_kafka_the_logs_or_metrics(stack, infra) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        complaint = (await intake.post("/v1/complaints", json=create_complaint())).json()
        await eventually(lambda: status_is(intake, complaint["id"], "dispatched"))
        metrics = (await intake.get("/metrics")).text
        assert "whistle_intake_complaints_total" in metrics
    messages = b"\n".join(await read_all_topics(infra.bootstrap_servers))
    assert complaint["id"].encode() in messages  # we did read the complaint's events
    logs = "\n".join(p.read_text(errors="replace") for p in stack.log_dir.glob("*.log"))
    for secret in (NAME, PHONE, EMAIL, ADDRESS):
        assert secret.encode() not in messages, f"{secret} on Kafka"
        assert secret not in logs, f"{secret} in the logs"
        assert secret not in metrics, f"{secret} in a metric"
