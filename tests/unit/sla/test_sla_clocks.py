from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.sla.clocks import plan_clocks, verdict
from shared.city import SlaPolicy
from shared.events import AssignmentRef, WhistleIssued
from shared.work_calendar import WorkCalendar

ISSUED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Beijing


def create_whistle(**overrides: object) -> WhistleIssued:
    fields: dict[str, object] = dict(
        whistle_id="w1",
        complaint_id="c1",
        category="heating",
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


def test_whistle_starts_a_sign_off_clock_per_unit_and_one_resolve_clock() -> None:
    policy = SlaPolicy(sign_off="30m", contact="24h", report_in="24h", resolve="7d")
    plans = plan_clocks(create_whistle(), policy, WorkCalendar())
    assert [(p.stage, p.unit_code, p.due_at - ISSUED) for p in plans] == [
        ("sign_off", "u-lead", timedelta(minutes=30)),
        ("sign_off", "u-co", timedelta(minutes=30)),
        ("resolve", "", timedelta(days=7)),
    ]


def test_working_day_resolve_deadline_skips_the_weekend() -> None:
    policy = SlaPolicy(sign_off="1h", contact="2d", report_in="3wd", resolve="5wd")
    resolve = plan_clocks(create_whistle(), policy, WorkCalendar())[-1]
    assert resolve.due_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tue + 5 working days = next Tue


def test_clock_stopped_after_deadline_is_breached() -> None:
    due = ISSUED + timedelta(minutes=30)
    assert verdict(due, due) == "met"
    assert verdict(due, due + timedelta(seconds=1)) == "breached"
