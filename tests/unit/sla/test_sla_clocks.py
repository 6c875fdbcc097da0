"""Planning clocks from policy and calendar, warning points, extensions, verdicts and what a clock
counts for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.sla.clocks import (
    ClockState,
    clock_id,
    extended_due,
    judge,
    plan_clocks,
    stop_status,
    verdict,
    warn_point,
)
from shared.city import SlaPolicy
from shared.events import AssignmentRef, WhistleIssued
from shared.work_calendar import LOCAL_TZ, WorkCalendar
from tests.conftest import tiny_city

ISSUED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Beijing
CALENDAR = WorkCalendar()


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


def create_whistle(**overrides: object) -> WhistleIssued:
    fields: dict[str, object] = dict(
        whistle_id="w1",
        complaint_id="c1",
        category="illegal_construction",
        urgency="normal",
        street_code="s1",
        issued_at=ISSUED,
        assignments=[
            AssignmentRef(assignment_id="a1", unit_code="u-lead", department_code="d", role="lead"),
            AssignmentRef(assignment_id="a2", unit_code="u-co", department_code="e", role="co"),
        ],
    )
    fields.update(overrides)
    return WhistleIssued.model_validate(fields)


def stages(plans: list) -> list[tuple[str, str, timedelta]]:  # type: ignore[type-arg]
    return [(p.stage, p.unit_code, p.due_at - p.started_at) for p in plans]


@pytest.mark.parametrize(
    ("urgency", "sign_off", "contact", "resolve"),
    [
        ("emergency", timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)),
        ("urgent", timedelta(minutes=15), timedelta(hours=2), timedelta(hours=24)),
        ("normal", timedelta(minutes=30), timedelta(hours=24), timedelta(days=7)),
    ],
)
def test_each_urgency_plans_its_policys_durations(
    urgency: str, sign_off: timedelta, contact: timedelta, resolve: timedelta
) -> None:
    policy = tiny_city().policies.sla[urgency]  # type: ignore[index]
    plans = plan_clocks(create_whistle(urgency=urgency), policy, CALENDAR)
    assert stages(plans) == [
        ("sign_off", "u-lead", sign_off),
        ("contact", "u-lead", contact),
        ("sign_off", "u-co", sign_off),
        ("contact", "u-co", contact),
        ("resolve", "u-lead", resolve),
    ]


def test_complex_urgency_counts_working_days_over_the_weekend() -> None:
    policy = tiny_city().policies.sla["complex"]  # report_in 3wd, resolve 15wd
    plans = plan_clocks(create_whistle(urgency="complex", visit_required=True), policy, CALENDAR)
    report_in = next(p for p in plans if p.stage == "report_in" and p.unit_code == "u-lead")
    resolve = plans[-1]
    assert report_in.due_at == beijing(2026, 11, 27, 10, 0)  # Tue + 3 working days = Fri
    assert resolve.due_at == beijing(2026, 12, 15, 10, 0)  # 15 working days = three weeks later


def test_working_days_skip_national_day_and_count_the_make_up_saturday() -> None:
    policy = SlaPolicy(sign_off="1h", contact="1d", report_in="3wd", resolve="5wd")
    whistle = create_whistle(issued_at=beijing(2026, 9, 30, 10, 0), visit_required=True)
    plans = {(p.stage, p.unit_code): p for p in plan_clocks(whistle, policy, CALENDAR)}
    # 1 Oct – 7 Oct are holidays; Saturday 10 Oct is a make-up working day.
    assert plans["report_in", "u-lead"].due_at == beijing(2026, 10, 10, 10, 0)
    assert plans["resolve", "u-lead"].due_at == beijing(2026, 10, 13, 10, 0)


def test_a_whistle_issued_on_a_holiday_starts_its_working_days_at_nine_on_the_next_working_day() -> None:
    policy = SlaPolicy(sign_off="1h", contact="1d", report_in="1wd", resolve="1wd")
    plans = plan_clocks(create_whistle(issued_at=beijing(2026, 10, 3, 15, 0)), policy, CALENDAR)
    assert plans[-1].due_at == beijing(2026, 10, 9, 9, 0)


def test_report_in_runs_where_a_visit_is_asked_and_for_a_streets_own_whistle() -> None:
    policy = tiny_city().policies.sla["normal"]
    for whistle in (create_whistle(visit_required=True), create_whistle(kind="street_whistle")):
        summoned = {p.unit_code for p in plan_clocks(whistle, policy, CALENDAR) if p.stage == "report_in"}
        assert summoned == {"u-lead", "u-co"}
    assert not [p for p in plan_clocks(create_whistle(), policy, CALENDAR) if p.stage == "report_in"]


def test_only_the_answering_unit_gets_the_resolve_clock() -> None:
    backstop = [
        AssignmentRef(assignment_id="a9", unit_code="d1-backstop", department_code=None, role="backstop")
    ]
    plans = plan_clocks(create_whistle(assignments=backstop), tiny_city().policies.sla["normal"], CALENDAR)
    assert [(p.stage, p.unit_code) for p in plans if p.stage == "resolve"] == [("resolve", "d1-backstop")]


def test_a_clock_is_named_the_same_every_time_it_is_planned() -> None:
    policy = tiny_city().policies.sla["normal"]
    first = [p.clock_id for p in plan_clocks(create_whistle(), policy, CALENDAR)]
    again = [p.clock_id for p in plan_clocks(create_whistle(), policy, CALENDAR)]
    assert first == again and len(set(first)) == len(first)
    assert clock_id("w1", "sign_off", "u-lead", "a1") != clock_id("w2", "sign_off", "u-lead", "a1")


def test_seconds_scale_policies_compress_time() -> None:
    policy = SlaPolicy(sign_off="2s", contact="4s", report_in="4s", resolve="10s", warn_at=0.5)
    plans = plan_clocks(create_whistle(), policy, CALENDAR)
    assert plans[0].due_at - ISSUED == timedelta(seconds=2)
    assert plans[0].warn_at - ISSUED == timedelta(seconds=1)


def test_the_warning_falls_at_the_policys_share_of_the_duration() -> None:
    policy = SlaPolicy(sign_off="30m", contact="24h", report_in="24h", resolve="7d")  # warn_at 0.8
    sign_off = plan_clocks(create_whistle(), policy, CALENDAR)[0]
    assert sign_off.warn_at - ISSUED == timedelta(minutes=24)
    assert warn_point(ISSUED, ISSUED + timedelta(hours=10), 0.5) == ISSUED + timedelta(hours=5)


def test_an_extension_of_working_days_skips_the_holiday() -> None:
    due = beijing(2026, 9, 30, 16, 0)
    assert extended_due(due, working_days=2, until=None, calendar=CALENDAR) == beijing(2026, 10, 9, 16, 0)


def test_an_extension_until_a_date_moves_the_deadline_there_and_never_earlier() -> None:
    due = ISSUED + timedelta(days=7)
    later = due + timedelta(days=3)
    assert extended_due(due, working_days=None, until=later, calendar=CALENDAR) == later
    assert extended_due(due, working_days=None, until=due - timedelta(days=1), calendar=CALENDAR) == due
    assert extended_due(due, working_days=None, until=None, calendar=CALENDAR) == due


def test_a_clock_stopped_after_its_deadline_is_breached() -> None:
    due = ISSUED + timedelta(minutes=30)
    assert verdict(due, due) == "met"
    assert verdict(due, due + timedelta(seconds=1)) == "breached"


def test_how_a_stopped_clock_ends_depends_on_why_it_stopped() -> None:
    due = ISSUED + timedelta(minutes=30)
    early, late = due - timedelta(minutes=1), due + timedelta(minutes=1)
    assert stop_status("done", due=due, at=early) == "met"
    assert stop_status("returned", due=due, at=late) == "returned"
    assert stop_status("cancelled", due=due, at=early) == "cancelled"
    assert stop_status("cancelled", due=due, at=late) == "breached"


DUE = ISSUED + timedelta(minutes=30)


def state(**fields: object) -> ClockState:
    values: dict[str, object] = {"stage": "sign_off", "status": "met", "due_at": DUE, "stopped_at": ISSUED}
    return ClockState(**(values | fields))  # type: ignore[arg-type]


def test_a_clock_met_in_time_counts_for_the_response_rate() -> None:
    judged = judge(state())
    assert judged is not None and (judged.measure, judged.outcome, judged.counted) == (
        "response",
        "met",
        True,
    )


def test_a_running_clock_counts_only_once_its_breach_went_out() -> None:
    assert judge(state(status="running", stopped_at=None)) is None
    breached = judge(state(status="running", stopped_at=None, breached_at=DUE))
    assert breached is not None and (breached.outcome, breached.counted, breached.at) == (
        "breached",
        True,
        DUE,
    )


def test_upheld_returns_cancellations_extensions_and_merges_are_excluded_with_the_reason() -> None:
    cases = {
        "returned": state(status="returned", reason="not_our_duty"),
        "cancelled": state(status="cancelled", reason="reopened round superseded"),
        "extended": state(stage="resolve", extended=True),
        "merged": state(merged_into="c0"),
    }
    reasons = {name: judge(c) for name, c in cases.items()}
    assert all(j is not None and not j.counted for j in reasons.values())
    assert {name: j.reason for name, j in reasons.items() if j} == {
        "returned": "upheld return (not_our_duty)",
        "cancelled": "reopened round superseded",
        "extended": "approved extension",
        "merged": "merged duplicate (into c0)",
    }


def test_a_clock_missed_after_an_extension_still_counts_as_breached() -> None:
    judged = judge(
        state(stage="resolve", status="breached", extended=True, stopped_at=DUE + timedelta(hours=1))
    )
    assert judged is not None and (judged.measure, judged.outcome, judged.counted) == (
        "on_time",
        "breached",
        True,
    )
