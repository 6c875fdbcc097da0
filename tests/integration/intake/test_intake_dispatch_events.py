"""Dispatch's newer events on the real database, delivered as the consumer loop would: reporting in,
re-routes, results, superseded whistles, extensions, and events of complaints intake never had."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake import handlers as handlers_module
from services.intake import repository, timeline_repository
from services.intake.contact import read_contact
from shared.access import Principal
from shared.events import (
    AssignmentRef,
    AssignmentReportedIn,
    AssignmentRerouted,
    AssignmentSignedOff,
    ClockStarted,
    WhistleCompleted,
    WhistleEscalated,
    WhistleIssued,
    WhistleSuperseded,
)
from tests.integration.intake.conftest import IntakeDb, create_draft

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LEAD = AssignmentRef(assignment_id="a1", unit_code="d1-zjw", department_code="zjw", role="lead")
CO = AssignmentRef(assignment_id="a2", unit_code="d1-cgw", department_code="cgw", role="co")


def issued(complaint_id: str) -> WhistleIssued:
    return WhistleIssued(
        whistle_id=str(uuid.uuid4()),
        complaint_id=complaint_id,
        category="illegal_construction",
        urgency="normal",
        street_code="s1",
        issued_at=NOW,
        assignments=[LEAD, CO],
    )


def reported_in(whistle: WhistleIssued, kind: str, *, at: datetime) -> AssignmentReportedIn:
    return AssignmentReportedIn(
        whistle_id=whistle.whistle_id,
        complaint_id=whistle.complaint_id,
        assignment_id=LEAD.assignment_id,
        unit_code=LEAD.unit_code,
        department_code=LEAD.department_code,
        role="lead",
        at=at,
        kind=kind,  # type: ignore[arg-type]
    )


def rerouted(whistle: WhistleIssued, from_unit: str, to: AssignmentRef) -> AssignmentRerouted:
    return AssignmentRerouted(
        whistle_id=whistle.whistle_id,
        complaint_id=whistle.complaint_id,
        from_assignment_id="a1" if from_unit == LEAD.unit_code else "a2",
        from_unit_code=from_unit,
        to=to,
        reason="not_our_duty",
        at=NOW + timedelta(minutes=30),
    )


async def entries(intake: IntakeDb, complaint_id: str) -> list[tuple[str, str, str | None, str]]:
    async with intake.sessions() as session:
        rows = await timeline_repository.timeline(session, complaint_id)
    return [(r.kind, r.status, r.unit_code, r.note) for r in rows]


async def get(intake: IntakeDb, complaint_id: str):  # type: ignore[no-untyped-def]
    async with intake.sessions() as session:
        return await repository.get(session, complaint_id)


async def test_reporting_in_tells_the_resident_each_time_and_moves_a_dispatched_complaint_on(
    intake: IntakeDb,
) -> None:
    complaint = (await intake.file(create_draft(lat=39.901, lon=116.401))).complaint
    whistle = issued(complaint.id)
    await intake.deliver(whistle)
    await intake.deliver(reported_in(whistle, "contacted", at=NOW + timedelta(minutes=10)))
    await intake.deliver(reported_in(whistle, "on_site", at=NOW + timedelta(minutes=40)))
    assert (await get(intake, complaint.id)).status == "in_progress"
    assert (await entries(intake, complaint.id))[1:] == [
        ("dispatched", "dispatched", "d1-zjw", "已派至东区住建委办理"),
        ("reported_in", "in_progress", "d1-zjw", "东区住建委已联系您，正在办理"),
        ("reported_in", "in_progress", "d1-zjw", "东区住建委已到场，正在办理"),
    ]


async def test_a_merged_complaint_hears_of_its_originals_unit_reporting_in(intake: IntakeDb) -> None:
    original = (await intake.file(create_draft(lat=39.903, lon=116.403))).complaint
    merged = (await intake.file(create_draft(lat=39.903, lon=116.4031, name="李四"))).complaint
    assert merged.merged_into == original.id
    whistle = issued(original.id)
    await intake.deliver(whistle)
    await intake.deliver(reported_in(whistle, "on_site", at=NOW + timedelta(minutes=20)))
    kinds = [kind for kind, *_ in await entries(intake, merged.id)]
    assert kinds == ["filed", "merged", "dispatched", "reported_in"]


async def test_when_the_lead_is_rerouted_the_resident_sees_the_new_unit_which_may_read_the_contact(
    intake: IntakeDb,
) -> None:
    complaint = (await intake.file(create_draft(lat=39.904, lon=116.404))).complaint
    whistle = issued(complaint.id)
    await intake.deliver(whistle)
    water = AssignmentRef(assignment_id="a3", unit_code="d1-sw", department_code="sw", role="lead")
    await intake.deliver(rerouted(whistle, "d1-zjw", water))
    stored = await get(intake, complaint.id)
    assert (stored.lead_unit_code, stored.status) == ("d1-sw", "dispatched")
    assert (await entries(intake, complaint.id))[-1] == (
        "rerouted",
        "dispatched",
        "d1-sw",
        "已改派至东区水务局办理",
    )
    principal = Principal("dept-sw", "department", frozenset({"contact:read"}), department="sw")
    async with intake.sessions() as session, session.begin():
        read = await read_contact(
            session=session, ctx=intake.ctx, complaint_id=complaint.id, principal=principal
        )
    assert read.contact is not None and read.contact.phone == "13800138000"


async def test_a_co_units_reroute_changes_nothing_the_resident_sees(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft(lat=39.9045, lon=116.4045))).complaint
    whistle = issued(complaint.id)
    await intake.deliver(whistle)
    backstop = AssignmentRef(
        assignment_id="a4", unit_code="d1-backstop", department_code=None, role="backstop"
    )
    await intake.deliver(rerouted(whistle, "d1-cgw", backstop))
    assert (await get(intake, complaint.id)).lead_unit_code == "d1-zjw"
    assert [kind for kind, *_ in await entries(intake, complaint.id)] == ["filed", "dispatched"]
    async with intake.sessions() as session:
        units = {u.unit_code for u in await repository.handling_units(session, complaint.id)}
    assert units == {"d1-zjw", "d1-cgw", "d1-backstop"}


async def test_the_result_and_the_answering_unit_are_what_the_resident_is_told(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft(lat=39.906, lon=116.406))).complaint
    whistle = issued(complaint.id)
    await intake.deliver(whistle)
    await intake.deliver(
        WhistleCompleted(
            whistle_id=whistle.whistle_id,
            complaint_id=complaint.id,
            result="explained",
            unit_code="d1-cgw",
            at=NOW + timedelta(days=1),
        )
    )
    stored = await get(intake, complaint.id)
    assert (stored.status, stored.lead_unit_code) == ("resolved", "d1-cgw")
    async with intake.sessions() as session:
        last = (await timeline_repository.timeline(session, complaint.id))[-1]
    assert (last.kind, last.result, last.note) == (
        "resolved",
        "explained",
        "东区城管委已作解释说明，等待回访",
    )


async def test_a_superseded_whistles_late_events_no_longer_move_the_complaint(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft(lat=39.907, lon=116.407))).complaint
    whistle = issued(complaint.id)
    await intake.deliver(whistle)
    await intake.deliver(WhistleSuperseded(whistle_id=whistle.whistle_id, complaint_id=complaint.id, at=NOW))
    assert (await get(intake, complaint.id)).whistle_id is None
    await intake.deliver(
        AssignmentSignedOff(
            whistle_id=whistle.whistle_id,
            complaint_id=complaint.id,
            assignment_id="a1",
            unit_code="d1-zjw",
            department_code="zjw",
            role="lead",
            at=NOW + timedelta(minutes=5),
        )
    )
    assert (await get(intake, complaint.id)).status == "dispatched"


async def test_an_extension_moves_the_resolve_deadline_the_resident_is_shown(intake: IntakeDb) -> None:
    complaint = (await intake.file(create_draft(lat=39.908, lon=116.408))).complaint
    whistle = issued(complaint.id)
    await intake.deliver(whistle)

    def resolve_clock(due: datetime) -> ClockStarted:
        return ClockStarted(
            complaint_id=complaint.id,
            whistle_id=whistle.whistle_id,
            stage="resolve",
            unit_code="whistle",
            due_at=due,
            at=NOW,
            clock_id="clock-1",
        )

    await intake.deliver(resolve_clock(NOW + timedelta(days=7)))
    before = await get(intake, complaint.id)
    await intake.deliver(resolve_clock(NOW + timedelta(days=10)))  # the same clock, extended
    after = await get(intake, complaint.id)
    assert (before.expected_at, after.expected_at) == (NOW + timedelta(days=7), NOW + timedelta(days=10))
    assert after.recorded_at > before.recorded_at  # Open311 clients see the request changed


async def test_escalations_are_not_the_residents_business(intake: IntakeDb) -> None:
    """An escalation is a unit's missed deadline going up the ladder: internal, so intake has no
    handler for it and the consumer skips it before any transaction."""
    assert WhistleEscalated not in intake.handlers.table()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **_: self.seen.append((level, event))


async def test_events_of_a_complaint_intake_never_had_are_skipped_quietly(
    intake: IntakeDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(handlers_module, "log", recorder)
    street_whistle = issued(str(uuid.uuid4()))  # a street's own whistle: no complaint here
    await intake.deliver(street_whistle)
    await intake.deliver(reported_in(street_whistle, "on_site", at=NOW))
    assert recorder.seen and {level for level, _ in recorder.seen} == {"debug"}
