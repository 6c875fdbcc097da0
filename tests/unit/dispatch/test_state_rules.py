"""The small state machines: assignments in dispatch, resident-facing status in intake."""

from __future__ import annotations

import pytest

from services.dispatch.assignment_states import (
    AssignmentView,
    InvalidTransition,
    transition,
    whistle_answered,
)
from services.intake.status import next_status


def test_assignment_moves_queued_signed_off_reported_back() -> None:
    assert transition("queued", "sign_off") == "signed_off"
    assert transition("signed_off", "report_back") == "reported_back"


def test_report_back_before_sign_off_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="queued"):
        transition("queued", "report_back")


def test_signing_off_twice_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition("signed_off", "sign_off")


def test_whistle_is_answered_by_lead_not_by_co() -> None:
    assert not whistle_answered([AssignmentView("lead", "signed_off"), AssignmentView("co", "reported_back")])
    assert whistle_answered([AssignmentView("lead", "reported_back"), AssignmentView("co", "queued")])
    assert whistle_answered([AssignmentView("street", "reported_back")])


def test_status_moves_forward_only() -> None:
    assert next_status("received", "whistle.issued") == "dispatched"
    assert next_status("dispatched", "assignment.signed_off") == "in_progress"
    assert next_status("in_progress", "whistle.completed") == "resolved"
    assert next_status("in_progress", "whistle.issued") is None  # a late event does not move it back
    assert next_status("received", "whistle.completed") == "resolved"  # out of order still ends resolved
    assert next_status("resolved", "assignment.reported_back") is None


def test_intake_skips_clocks_other_than_resolve_before_any_transaction() -> None:
    from services.intake.handlers import IntakeHandlers
    from shared.events import Envelope

    def clock(stage: str) -> Envelope:
        return Envelope(type="clock.started", producer="sla", correlation_id="c", payload={"stage": stage})

    assert IntakeHandlers.wants(clock("resolve"))
    assert not IntakeHandlers.wants(clock("sign_off"))
    assert IntakeHandlers.wants(
        Envelope(type="whistle.issued", producer="dispatch", correlation_id="c", payload={})
    )
