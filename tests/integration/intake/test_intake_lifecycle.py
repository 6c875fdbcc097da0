"""A complaint's life after filing, on the real database: dispatch and SLA events move it, the
follow-up call closes or reopens it, merged complaints follow their original, contact reads are
audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.intake import repository, timeline_repository
from services.intake.contact import read_contact
from services.intake.followup import record_feedback
from services.intake.merging import undo_merge
from services.intake.schemas import FeedbackIn
from shared.access import Principal
from shared.errors import Conflict
from shared.events import (
    AssignmentRef,
    AssignmentSignedOff,
    ClockStarted,
    WhistleCompleted,
    WhistleIssued,
)
from tests.integration.intake.conftest import IntakeDb, create_draft

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def whistle(complaint_id: str, whistle_id: str | None = None) -> WhistleIssued:
    return WhistleIssued(
        whistle_id=whistle_id or str(uuid.uuid4()),
        complaint_id=complaint_id,
        category="illegal_construction",
        urgency="normal",
        street_code="s1",
        issued_at=NOW,
        assignments=[
            AssignmentRef(assignment_id="a1", unit_code="d1-zjw", department_code="zjw", role="lead"),
            AssignmentRef(assignment_id="a2", unit_code="d1-cgw", department_code="cgw", role="co"),
        ],
    )


async def resolve(intake: IntakeDb, complaint_id: str) -> str:
    issued = whistle(complaint_id)
    await intake.deliver(issued)
    await intake.deliver(
        AssignmentSignedOff(
            whistle_id=issued.whistle_id,
            complaint_id=complaint_id,
            assignment_id="a1",
            unit_code="d1-zjw",
            department_code="zjw",
            role="lead",
            at=NOW + timedelta(minutes=5),
        )
    )
    await intake.deliver(
        WhistleCompleted(
            whistle_id=issued.whistle_id,
            complaint_id=complaint_id,
            result="resolved",
            at=NOW + timedelta(hours=1),
        )
    )
    return issued.whistle_id


async def get(intake: IntakeDb, complaint_id: str):  # type: ignore[no-untyped-def]
    async with intake.sessions() as session:
        return await repository.get(session, complaint_id)


async def feedback(intake: IntakeDb, complaint_id: str, **body):  # type: ignore[no-untyped-def]
    async with intake.sessions() as session, session.begin():
        return await record_feedback(
            session=session,
            ctx=intake.ctx,
            complaint_id=complaint_id,
            body=FeedbackIn(**body),
            recorded_by="hotline",
        )


async def test_dispatch_events_move_the_status_and_the_timeline_tells_the_resident(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft())).complaint
    whistle_id = await resolve(intake, complaint.id)
    await intake.deliver(
        ClockStarted(
            complaint_id=complaint.id,
            whistle_id=whistle_id,
            stage="resolve",
            unit_code="",
            due_at=NOW + timedelta(days=7),
            at=NOW,
        )
    )
    stored = await get(intake, complaint.id)
    assert stored.status == "resolved" and stored.lead_unit_code == "d1-zjw"
    assert stored.expected_at == NOW + timedelta(days=7)
    async with intake.sessions() as session:
        timeline = await timeline_repository.timeline(session, complaint.id)
    assert [(t.kind, t.status, t.unit_code) for t in timeline] == [
        ("filed", "received", None),
        ("dispatched", "dispatched", "d1-zjw"),
        ("signed_off", "in_progress", "d1-zjw"),
        ("resolved", "resolved", "d1-zjw"),
    ]
    assert timeline[-1].result == "resolved"
    assert timeline[1].note == "已派至东区住建委办理"


async def test_a_late_or_repeated_event_never_moves_the_status_back(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft())).complaint
    issued = whistle(complaint.id)
    await intake.deliver(issued)
    await intake.deliver(
        WhistleCompleted(whistle_id=issued.whistle_id, complaint_id=complaint.id, result="resolved", at=NOW)
    )
    await intake.deliver(issued)
    assert (await get(intake, complaint.id)).status == "resolved"


async def test_satisfied_follow_up_closes_and_unsatisfied_reopens_for_a_new_round(intake: IntakeDb) -> None:
    done = (await intake.file(create_draft(lat=39.901, lon=116.401))).complaint
    await resolve(intake, done.id)
    closed = await feedback(intake, done.id, resolved=True, satisfaction="basically_satisfied")
    assert closed.complaint.status == "closed"
    again = await feedback(intake, done.id, resolved=True, satisfaction="basically_satisfied")
    assert again.feedback.id == closed.feedback.id  # the same call sent twice
    with pytest.raises(Conflict):
        await feedback(intake, done.id, resolved=False, satisfaction="unsatisfied")

    bad = (await intake.file(create_draft(lat=39.909, lon=116.409))).complaint
    old_whistle = await resolve(intake, bad.id)
    reopened = await feedback(intake, bad.id, resolved=True, satisfaction="unsatisfied", comment="还在")
    assert reopened.complaint.status == "reopened" and reopened.reopened_complaint_id == bad.id
    types = [e.type for e in await intake.events(bad.id)]
    assert types == ["complaint.received", "complaint.feedback_recorded", "complaint.reopened"]
    assert "还在" not in str((await intake.events(bad.id))[1].payload)
    # The old whistle's late events are ignored; the new round's whistle moves it on.
    await intake.deliver(
        WhistleCompleted(whistle_id=old_whistle, complaint_id=bad.id, result="resolved", at=NOW)
    )
    assert (await get(intake, bad.id)).status == "reopened"
    await intake.deliver(whistle(bad.id))
    assert (await get(intake, bad.id)).status == "dispatched"
    with pytest.raises(Conflict):
        await feedback(intake, bad.id, resolved=True, satisfaction="satisfied")


async def test_a_merged_complaint_mirrors_its_original_and_its_resident_can_reopen_the_matter(
    intake: IntakeDb,
) -> None:
    original = (await intake.file(create_draft())).complaint
    merged = (await intake.file(create_draft(name="李四"))).complaint
    assert merged.merged_into == original.id
    await resolve(intake, original.id)
    assert (await get(intake, merged.id)).status == "resolved"
    closed = await feedback(intake, original.id, resolved=True, satisfaction="satisfied")
    assert closed.complaint.status == "closed"
    assert (await get(intake, merged.id)).status == "resolved"  # its resident has not been called yet
    reopened = await feedback(intake, merged.id, resolved=False, satisfaction="unsatisfied")
    assert reopened.reopened_complaint_id == original.id
    assert (await get(intake, original.id)).status == "reopened"
    assert (await get(intake, merged.id)).status == "reopened"
    [event] = [e for e in await intake.events(original.id) if e.type == "complaint.reopened"]
    assert event.payload["complaint_id"] == original.id


async def test_undoing_a_merge_dispatches_the_complaint_on_its_own(intake: IntakeDb) -> None:
    original = (await intake.file(create_draft())).complaint
    merged = (await intake.file(create_draft())).complaint
    async with intake.sessions() as session, session.begin():
        alone = await undo_merge(session=session, ctx=intake.ctx, complaint_id=merged.id, by="admin")
    assert alone.merged_into is None and alone.status == "received"
    assert (await get(intake, original.id)).reporter_count == 1
    assert [e.type for e in await intake.events(merged.id)] == ["complaint.received"]
    async with intake.sessions() as session, session.begin():
        with pytest.raises(Conflict):
            await undo_merge(session=session, ctx=intake.ctx, complaint_id=merged.id, by="admin")


async def test_only_the_units_handling_a_complaint_read_the_contact_and_every_read_is_audited(
    intake: IntakeDb,
) -> None:
    complaint = (await intake.file(create_draft())).complaint
    await intake.deliver(whistle(complaint.id))
    callers = {
        "dept-zjw": Principal("dept-zjw", "department", frozenset({"contact:read"}), department="zjw"),
        "dept-sw": Principal("dept-sw", "department", frozenset({"contact:read"}), department="sw"),
        "street-s1": Principal("street-s1", "street", frozenset({"contact:read"}), street="s1"),
        "street-s2": Principal("street-s2", "street", frozenset({"contact:read"}), street="s2"),
    }
    results = {}
    for name, principal in callers.items():
        async with intake.sessions() as session, session.begin():
            read = await read_contact(
                session=session, ctx=intake.ctx, complaint_id=complaint.id, principal=principal
            )
        results[name] = read.contact.phone if read.contact else None
    assert results == {
        "dept-zjw": "13800138000",
        "dept-sw": None,
        "street-s1": "13800138000",
        "street-s2": None,
    }
    async with intake.sessions() as session:
        audit = await repository.contact_reads(session, complaint.id)
    assert [(a.client_id, a.granted) for a in audit] == [
        ("dept-zjw", True),
        ("dept-sw", False),
        ("street-s1", True),
        ("street-s2", False),
    ]
