"""What Open311 clients sync from, on the real database: the update stream read from the timeline
by when intake recorded each change (settled, in order, resumable), searches by change, residents'
own updates (stored once, asking for a follow-up only of a resolved complaint), and the migration
that gave the stored timeline its kinds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.intake import repository, timeline_repository
from services.intake.drafts import UpdateDraft
from services.intake.followup import record_feedback
from services.intake.resident_updates import record_resident_update
from services.intake.schemas import FeedbackIn
from services.intake.status import STREAMED_KINDS
from shared.errors import NotFound
from shared.events import AssignmentRef, AssignmentSignedOff, WhistleCompleted, WhistleIssued
from shared.migrations import upgrade
from tests.conftest import scratch_database
from tests.integration.intake.conftest import IntakeDb, create_draft

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2100, 1, 1, tzinfo=UTC)


async def resolve(intake: IntakeDb, complaint_id: str) -> None:
    whistle = WhistleIssued(
        whistle_id=str(uuid.uuid4()),
        complaint_id=complaint_id,
        category="illegal_construction",
        urgency="normal",
        street_code="s1",
        issued_at=NOW,
        assignments=[
            AssignmentRef(assignment_id="a1", unit_code="d1-zjw", department_code="zjw", role="lead")
        ],
    )
    await intake.deliver(whistle)
    await intake.deliver(
        AssignmentSignedOff(
            whistle_id=whistle.whistle_id,
            complaint_id=complaint_id,
            assignment_id="a1",
            unit_code="d1-zjw",
            department_code="zjw",
            role="lead",
            at=NOW,
        )
    )
    await intake.deliver(
        WhistleCompleted(whistle_id=whistle.whistle_id, complaint_id=complaint_id, result="resolved", at=NOW)
    )


def window(settle: float = 0, *, start: datetime = LONG_AGO, limit: int = 1000) -> timeline_repository.Window:
    return timeline_repository.Window(start=start, end=FAR_AHEAD, settle_seconds=settle, limit=limit)


async def read_stream(intake: IntakeDb, w: timeline_repository.Window) -> list[tuple[int, str, str]]:
    async with intake.sessions() as session:
        rows = await timeline_repository.stream(session, w, kinds=STREAMED_KINDS)
    return [(r.id, r.complaint_id, r.kind) for r in rows]


async def test_the_stream_holds_resident_visible_changes_in_the_order_they_were_recorded(
    intake: IntakeDb,
) -> None:
    first = (await intake.file(create_draft(lat=39.901, lon=116.401))).complaint
    second = (await intake.file(create_draft(lat=39.909, lon=116.409))).complaint
    await resolve(intake, second.id)
    await resolve(intake, first.id)
    stream = await read_stream(intake, window())
    assert [(c, k) for _, c, k in stream] == [
        (second.id, "dispatched"),
        (second.id, "signed_off"),
        (second.id, "resolved"),
        (first.id, "dispatched"),
        (first.id, "signed_off"),
        (first.id, "resolved"),
    ]  # recorded order, though every event carried the same time; no `filed` entries
    assert await read_stream(intake, window(settle=3600)) == []  # nothing settled yet


async def test_a_client_resuming_from_the_last_updated_datetime_reads_every_change_once(
    intake: IntakeDb,
) -> None:
    for i in range(5):
        complaint = (await intake.file(create_draft(lat=39.901 + i * 0.001, lon=116.401))).complaint
        await resolve(intake, complaint.id)
    everything = await read_stream(intake, window())
    seen: dict[int, None] = {}
    start, pages = LONG_AGO, 0
    while True:
        async with intake.sessions() as session:
            page = await timeline_repository.stream(
                session, window(start=start, limit=4), kinds=STREAMED_KINDS
            )
        pages += 1
        seen.update((e.id, None) for e in page)
        if len(page) < 4:
            break
        start = page[-1].recorded_at  # inclusive: the last one comes again and is skipped
    assert list(seen) == [e[0] for e in everything] and len(everything) == 15 and pages >= 4


async def test_searches_by_change_find_a_request_again_after_it_changed(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft(lat=39.902, lon=116.402))).complaint
    async with intake.sessions() as session:
        [found] = await timeline_repository.list_changed(session, repository.ComplaintFilter(), window())
    mark = found.recorded_at
    await resolve(intake, complaint.id)
    async with intake.sessions() as session:
        later = await timeline_repository.list_changed(
            session, repository.ComplaintFilter(), window(start=mark + timedelta(microseconds=1))
        )
    assert [c.id for c in later] == [complaint.id] and later[0].recorded_at > mark


async def send(intake: IntakeDb, complaint_id: str, update_id: str, status: str, **fields: str):  # type: ignore[no-untyped-def]
    draft = UpdateDraft(
        service_request_id=complaint_id,
        client_update_id=update_id,
        status_sent=status,
        description=fields.get("description", "还是很脏"),
        name="张三",
        email="zs@example.cn",
        phone="13800138000",
    )
    async with intake.sessions() as session, session.begin():
        return await record_resident_update(session=session, ctx=intake.ctx, draft=draft, client_id="hotline")


async def test_not_fixed_on_a_resolved_complaint_asks_the_hotline_for_a_follow_up_once(
    intake: IntakeDb,
) -> None:
    complaint = (await intake.file(create_draft(lat=39.903, lon=116.403))).complaint
    comment = await send(intake, complaint.id, "fms-1", "OPEN")  # not resolved yet: only a comment
    assert comment.created and not comment.followup_requested
    await resolve(intake, complaint.id)
    asked = await send(intake, complaint.id, "fms-2", "REOPEN", description="根本没人来")
    again = await send(intake, complaint.id, "fms-2", "REOPEN", description="根本没人来")
    assert asked.followup_requested and asked.created and not again.created
    assert again.update_id == asked.update_id
    stored = await intake_get(intake, complaint.id)
    assert stored.status == "resolved" and stored.followup_requested_at is not None  # not reopened by itself
    async with intake.sessions() as session:
        updates = await timeline_repository.resident_updates(session, complaint.id)
        flagged = await repository.list_complaints(
            session, repository.ComplaintFilter(followup_requested=True), limit=10
        )
        timeline = await timeline_repository.timeline(session, complaint.id)
    assert [(u.client_update_id, u.says, u.followup_requested) for u in updates] == [
        ("fms-1", "not_fixed", False),
        ("fms-2", "not_fixed", True),
    ]
    assert b"13800138000" not in (updates[0].phone_enc or b"") and updates[1].description == "根本没人来"
    assert [c.id for c in flagged] == [complaint.id]
    assert str(timeline[-1].id) == asked.update_id and timeline[-1].kind == "followup_requested"
    assert "根本没人来" not in timeline[-1].note
    streamed = {e[0] for e in await read_stream(intake, window())}
    assert int(asked.update_id) not in streamed and int(comment.update_id) not in streamed  # not echoed

    async with intake.sessions() as session, session.begin():
        body = FeedbackIn(resolved=False, satisfaction="unsatisfied")
        await record_feedback(
            session=session, ctx=intake.ctx, complaint_id=complaint.id, body=body, recorded_by="hotline"
        )
    cleared = await intake_get(intake, complaint.id)
    assert cleared.status == "reopened" and cleared.followup_requested_at is None


async def test_an_update_of_a_request_that_does_not_exist_is_refused(intake: IntakeDb) -> None:
    with pytest.raises(NotFound):
        await send(intake, str(uuid.uuid4()), "fms-3", "OPEN")


async def intake_get(intake: IntakeDb, complaint_id: str):  # type: ignore[no-untyped-def]
    async with intake.sessions() as session:
        return await repository.get(session, complaint_id)


# --- the migration --------------------------------------------------------------------------------


@pytest.fixture
async def old_intake(infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A database at the revision before timeline kinds."""
    async with scratch_database(infra.database_url, "intake_old") as url:
        await asyncio.to_thread(upgrade, "intake", url, "5b8e0d4c1a72")
        yield url


async def test_the_migration_gives_stored_timelines_their_kinds_and_recorded_times(old_intake: str) -> None:
    conn = await asyncpg.connect(old_intake.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for cid in ("c1", "c2"):
            await conn.execute(
                "INSERT INTO intake.complaints (id, source, category, urgency, description, district_code,"
                " street_code, community_code, status, tracking_token, request_hash, updated_at)"
                " VALUES ($1, 'hotline', 'heating', 'urgent', 'x', 'd1', 's1', 's1-01', 'resolved',"
                " $1, 'h', $2)",
                cid,
                NOW,
            )
        await conn.execute(
            "INSERT INTO intake.merges (complaint_id, into_complaint_id, distance_meters, merged_at)"
            " VALUES ('c2', 'c1', 3, $1)",
            NOW + timedelta(minutes=1),
        )
        timeline = [
            ("c1", "received", "您的诉求已受理", NOW),
            ("c1", "in_progress", "东区住建委已签收，正在办理", NOW + timedelta(minutes=2)),
            ("c2", "received", "您的诉求已受理", NOW),
            (
                "c2",
                "dispatched",
                "已派至东区住建委办理（与2位市民反映的同一问题合并办理）",
                NOW + timedelta(minutes=1),
            ),
            ("c2", "received", "您的诉求已受理（单独派办）", NOW + timedelta(minutes=3)),
        ]
        for cid, status, note, at in timeline:
            await conn.execute(
                "INSERT INTO intake.status_changes (complaint_id, status, note, at) VALUES ($1, $2, $3, $4)",
                cid,
                status,
                note,
                at,
            )
        await asyncio.to_thread(upgrade, "intake", old_intake)
        rows = await conn.fetch(
            "SELECT complaint_id, kind, recorded_at = at AS same FROM intake.status_changes ORDER BY id"
        )
        assert [(r["complaint_id"], r["kind"]) for r in rows] == [
            ("c1", "filed"),
            ("c1", "signed_off"),
            ("c2", "filed"),
            ("c2", "merged"),
            ("c2", "unmerged"),
        ]
        assert all(r["same"] for r in rows)
        assert await conn.fetchval("SELECT bool_and(recorded_at = updated_at) FROM intake.complaints")
    finally:
        await conn.close()
