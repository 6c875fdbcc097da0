"""Intake's resident-facing status as dispatch's events move it (dispatch's own state machine is
tested in test_lifecycle.py)."""

from __future__ import annotations

from services.intake.status import next_status


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
