"""Clocks start, stop, move and fire on the real PostgreSQL, and each counts for its unit."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.sla.clocks import clock_id
from shared.events import (
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
    WhistleCompleted,
    WhistleSuperseded,
)
from shared.work_calendar import LOCAL_TZ
from tests.integration.sla.conftest import SlaDb, create_issued, of

pytestmark = pytest.mark.integration


async def test_a_whistle_starts_each_assignments_clocks_and_the_resolve_clock(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle)
    clocks = await sla.clocks(whistle.complaint_id)
    assert sorted(clocks) == [
        ("contact", "d1-cgw"),
        ("contact", "d1-zjw"),
        ("resolve", "d1-zjw"),
        ("sign_off", "d1-cgw"),
        ("sign_off", "d1-zjw"),
    ]
    assert clocks["sign_off", "d1-zjw"].due_at - whistle.issued_at == timedelta(minutes=30)
    assert clocks["resolve", "d1-zjw"].due_at - whistle.issued_at == timedelta(days=7)
    started = await sla.events("clock.started", whistle.complaint_id)
    assert sorted(e.payload["clock_id"] for e in started) == sorted(c.clock_id for c in clocks.values())
    assert len(await sla.rows("SELECT * FROM sla.timers")) == 2 * len(clocks)


async def test_the_same_whistle_again_starts_nothing_more(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle)
    await sla.deliver(whistle)
    assert len(await sla.clocks(whistle.complaint_id)) == 5
    assert len(await sla.events("clock.started")) == 5


async def test_a_sign_off_in_time_meets_the_clock_and_counts_for_the_response_rate(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle, AssignmentSignedOff(**of(whistle)))
    clock = (await sla.clocks(whistle.complaint_id))["sign_off", "d1-zjw"]
    assert (clock.status, clock.reason) == ("met", "signed off")
    assert await sla.rows("SELECT * FROM sla.timers WHERE clock_id = :c", c=clock.clock_id) == []
    [measure] = await sla.rows("SELECT * FROM sla.measures WHERE key = :c", c=clock.clock_id)
    assert (measure.measure, measure.outcome, measure.counted) == ("response", "met", True)
    [stopped] = await sla.events("clock.stopped", whistle.complaint_id)
    assert stopped.payload["status"] == "met"


async def test_a_clock_stopped_before_its_deadline_never_fires(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle, AssignmentSignedOff(**of(whistle)))
    await sla.fire(whistle.issued_at + timedelta(minutes=31))
    fired = await sla.events("clock.breached")
    assert [e.payload["stage"] for e in fired] == ["sign_off"]  # the co-department's, not the lead's
    assert fired[0].payload["unit_code"] == "d1-cgw"


async def test_a_due_clock_warns_then_breaches_once_each(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle)
    at_warning = whistle.issued_at + timedelta(minutes=24)
    assert await sla.fire(at_warning) == 2  # both sign-off warnings, at 80 %
    assert await sla.fire(at_warning) == 0
    at_breach = whistle.issued_at + timedelta(minutes=30, seconds=1)
    assert await sla.fire(at_breach) == 2
    assert await sla.fire(at_breach + timedelta(seconds=5)) == 0
    clock = (await sla.clocks(whistle.complaint_id))["sign_off", "d1-zjw"]
    assert (clock.status, clock.warned_at, clock.breached_at) == ("running", at_warning, at_breach)
    assert len(await sla.events("clock.warning")) == 2 and len(await sla.events("clock.breached")) == 2
    [measure] = await sla.rows("SELECT * FROM sla.measures WHERE key = :c", c=clock.clock_id)
    assert (measure.outcome, measure.counted, measure.at) == ("breached", True, at_breach)


async def test_an_extension_moves_the_assignments_clocks_and_the_answering_units_resolve_clock(
    sla: SlaDb,
) -> None:
    whistle = create_issued(issued_at=create_issued().issued_at.replace(year=2026, month=9, day=30, hour=2))
    await sla.deliver(whistle, AssignmentSignedOff(**of(whistle)))
    before = await sla.clocks(whistle.complaint_id)
    await sla.deliver(AssignmentExtended(**of(whistle), extension_id="x1", working_days=3))
    after = await sla.clocks(whistle.complaint_id)
    resolve = after["resolve", "d1-zjw"]
    assert (
        resolve.due_at.astimezone(LOCAL_TZ).date().isoformat() == "2026-10-12"
    )  # 7 Oct + 3 wd (Sat 10th works)
    assert after["contact", "d1-zjw"].due_at > before["contact", "d1-zjw"].due_at
    assert after["contact", "d1-cgw"].due_at == before["contact", "d1-cgw"].due_at
    assert after["sign_off", "d1-zjw"].status == "met"  # stopped clocks stay as they are
    timer = await sla.rows(
        "SELECT fire_at FROM sla.timers WHERE clock_id = :c AND kind = 'breach'", c=resolve.clock_id
    )
    assert [t.fire_at for t in timer] == [resolve.due_at]
    again = [e for e in await sla.events("clock.started") if e.payload["clock_id"] == resolve.clock_id]
    assert [e.payload["due_at"] for e in again][-1] == resolve.due_at.isoformat().replace("+00:00", "Z")
    # Under its old deadline the contact clock would have breached; it does not.
    await sla.fire(before["contact", "d1-zjw"].due_at + timedelta(seconds=1))
    breached = {e.payload["clock_id"] for e in await sla.events("clock.breached")}
    assert after["contact", "d1-zjw"].clock_id not in breached


async def test_a_return_stops_the_units_clocks_uncounted_and_the_reroute_starts_the_new_units(
    sla: SlaDb,
) -> None:
    whistle = create_issued()
    await sla.deliver(whistle)
    late = whistle.issued_at + timedelta(hours=1)
    await sla.fire(late)  # the lead's sign-off breached
    await sla.deliver(AssignmentReturned(**of(whistle, at=late), reason="not_our_duty"))
    new = AssignmentRef(assignment_id=str(uuid.uuid4()), unit_code="d1-sw", department_code="sw", role="lead")
    await sla.deliver(
        AssignmentRerouted(
            whistle_id=whistle.whistle_id,
            complaint_id=whistle.complaint_id,
            from_assignment_id=whistle.assignments[0].assignment_id,
            from_unit_code="d1-zjw",
            to=new,
            reason="not_our_duty",
            at=late,
        )
    )
    clocks = await sla.clocks(whistle.complaint_id)
    assert {k: c.status for k, c in clocks.items() if k[1] == "d1-zjw"} == {
        ("sign_off", "d1-zjw"): "returned",
        ("contact", "d1-zjw"): "returned",
        ("resolve", "d1-zjw"): "returned",
    }
    assert clocks["resolve", "d1-sw"].started_at == late and clocks["sign_off", "d1-sw"].status == "running"
    zjw = await sla.rows("SELECT counted, reason FROM sla.measures WHERE unit_code = 'd1-zjw'")
    assert zjw and all(not m.counted and m.reason == "upheld return (not_our_duty)" for m in zjw)


async def test_a_completed_whistle_leaves_no_clock_running(sla: SlaDb) -> None:
    whistle = create_issued(visit_required=True)
    done = whistle.issued_at + timedelta(hours=2)
    await sla.deliver(
        whistle,
        AssignmentSignedOff(**of(whistle)),
        AssignmentReportedIn(**of(whistle), kind="on_site"),
        AssignmentReportedBack(**of(whistle, at=done), result="resolved"),
        AssignmentClosed(**of(whistle, 1, at=done), reason="not_needed"),
        WhistleCompleted(
            whistle_id=whistle.whistle_id,
            complaint_id=whistle.complaint_id,
            result="resolved",
            at=done,
            unit_code="d1-zjw",
        ),
    )
    statuses = {k: (c.status, c.reason) for k, c in (await sla.clocks(whistle.complaint_id)).items()}
    assert statuses == {
        ("sign_off", "d1-zjw"): ("met", "signed off"),
        ("contact", "d1-zjw"): ("met", "reported in (on_site)"),
        ("report_in", "d1-zjw"): ("met", "reported in (on_site)"),
        ("resolve", "d1-zjw"): ("met", "reported back (resolved)"),
        ("sign_off", "d1-cgw"): ("breached", "assignment not_needed"),
        ("contact", "d1-cgw"): ("cancelled", "assignment not_needed"),
        ("report_in", "d1-cgw"): ("cancelled", "assignment not_needed"),
    }
    assert await sla.rows("SELECT * FROM sla.timers") == []


async def test_a_superseded_round_is_cancelled_and_excluded(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle, AssignmentSignedOff(**of(whistle)))
    at = whistle.issued_at + timedelta(minutes=10)
    await sla.deliver(
        WhistleSuperseded(whistle_id=whistle.whistle_id, complaint_id=whistle.complaint_id, at=at)
    )
    clocks = await sla.clocks(whistle.complaint_id)
    assert {c.status for k, c in clocks.items() if k != ("sign_off", "d1-zjw")} == {"cancelled"}
    reasons = await sla.rows("SELECT reason FROM sla.measures WHERE NOT counted")
    assert {r.reason for r in reasons} == {"reopened round superseded"}


async def test_a_follow_up_counts_for_the_answering_unit_and_a_merge_excludes_the_duplicate(
    sla: SlaDb,
) -> None:
    whistle = create_issued()
    at = whistle.issued_at + timedelta(hours=1)
    await sla.deliver(
        whistle,
        ComplaintFeedbackRecorded(
            complaint_id=whistle.complaint_id,
            category="illegal_construction",
            street_code="s1",
            resolved=True,
            satisfaction="basically_satisfied",
            at=at,
        ),
    )
    follow_up = await sla.rows(
        "SELECT unit_code, measure, outcome, counted FROM sla.measures ORDER BY measure"
    )
    assert [tuple(r) for r in follow_up] == [
        ("d1-zjw", "resolution", "resolved", True),
        ("d1-zjw", "satisfaction", "basically_satisfied", True),
    ]
    await sla.deliver(
        ComplaintMerged(
            complaint_id=whistle.complaint_id,
            into_complaint_id="c-other",
            category="illegal_construction",
            street_code="s1",
            reporter_count=2,
            at=whistle.issued_at + timedelta(minutes=10),
        )
    )
    assert {r.reason for r in await sla.rows("SELECT reason FROM sla.measures")} == {
        "merged duplicate (into c-other)"
    }
    assert {c.status for c in (await sla.clocks(whistle.complaint_id)).values()} == {"cancelled"}


async def test_clock_ids_are_stable_for_a_rebuild(sla: SlaDb) -> None:
    whistle = create_issued()
    await sla.deliver(whistle)
    lead = whistle.assignments[0]
    expected = clock_id(whistle.whistle_id, "sign_off", lead.unit_code, lead.assignment_id)
    assert (await sla.clocks(whistle.complaint_id))["sign_off", "d1-zjw"].clock_id == expected
