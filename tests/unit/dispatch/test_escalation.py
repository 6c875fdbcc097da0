"""The escalation ladder: which steps a warning or breach sets off, when, and when they are skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dispatch.escalation import cause_of, stage_done, steps_for, why_skip
from services.dispatch.lifecycle import AssignmentView
from shared.city import DEFAULT_ESCALATION, EscalationStep
from shared.work_calendar import WorkCalendar

AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
CAL = WorkCalendar()


def actions(when: str, stage: str) -> list[tuple[int, str, datetime]]:
    return [
        (s.position, s.step.action, s.due_at)
        for s in steps_for(DEFAULT_ESCALATION, when=when, stage=stage, at=AT, calendar=CAL)  # type: ignore[arg-type]
    ]


def test_a_warning_of_any_stage_reminds_the_unit_at_once() -> None:
    assert actions("warning", "sign_off") == [(1, "remind", AT)]
    assert actions("warning", "resolve") == [(1, "remind", AT)]
    assert cause_of("warning") == "warning" and cause_of("breached") == "breach"


def test_a_sign_off_breach_reminds_then_goes_to_the_district_after_thirty_minutes() -> None:
    assert actions("breached", "sign_off") == [(2, "remind", AT), (3, "district", AT + timedelta(minutes=30))]


def test_a_resolve_breach_has_the_backstop_join_and_a_report_in_breach_goes_to_the_district() -> None:
    assert actions("breached", "resolve") == [(6, "backstop_joins", AT)]
    assert actions("breached", "report_in") == [(5, "district", AT)]


def test_a_ladder_in_working_days_counts_on_the_calendar() -> None:
    friday = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    ladder = [EscalationStep(when="breached", after="1wd", action="district")]
    (due,) = steps_for(ladder, when="breached", stage="contact", at=friday, calendar=CAL)
    assert due.due_at == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_a_step_is_skipped_once_the_stage_is_done_or_the_assignment_or_whistle_moved_on() -> None:
    queued = AssignmentView("lead", "queued")
    signed = AssignmentView("lead", "signed_off")
    assert why_skip("sign_off", whistle_status="open", assignment=queued) is None
    assert why_skip("sign_off", whistle_status="open", assignment=signed) == "the sign off stage is done"
    assert why_skip("contact", whistle_status="open", assignment=signed) is None
    assert why_skip("resolve", whistle_status="completed", assignment=signed) == "the whistle is completed"
    assert why_skip("resolve", whistle_status="open", assignment=AssignmentView("lead", "returned")) == (
        "the assignment is returned"
    )
    assert why_skip("resolve", whistle_status="open", assignment=None) is None


def test_report_in_kinds_finish_their_own_stages() -> None:
    contacted = AssignmentView("lead", "reported_in", frozenset({"contacted"}))
    assert stage_done("contact", contacted) and not stage_done("report_in", contacted)
    assert stage_done("report_in", AssignmentView("lead", "reported_in", frozenset({"on_site"})))
