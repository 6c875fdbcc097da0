"""The state machine of assignments and whistles: every transition, every refusal."""

from __future__ import annotations

import pytest

from services.dispatch.lifecycle import (
    ENDED,
    OPEN,
    TRANSITIONS,
    WORKER_ACTIONS,
    AssignmentView,
    InvalidTransition,
    allowed_actions,
    ends_lease,
    transition,
    whistle_answered,
)

LEAD = "lead"


def view(status: str, role: str = LEAD, reported: frozenset[str] = frozenset()) -> AssignmentView:
    return AssignmentView(role=role, status=status, reported_in=reported)


@pytest.mark.parametrize(
    ("status", "action", "kind", "after"),
    [
        ("queued", "sign_off", None, "signed_off"),
        ("signed_off", "report_in", "contacted", "reported_in"),
        ("signed_off", "report_in", "on_site", "reported_in"),
        ("reported_in", "report_in", "on_site", "reported_in"),
        ("signed_off", "report_back", None, "reported_back"),
        ("reported_in", "report_back", None, "reported_back"),
        ("queued", "return", None, "returned"),
        ("signed_off", "return", None, "returned"),
        ("reported_in", "return", None, "returned"),
        ("signed_off", "extension", None, "signed_off"),
        ("reported_in", "extension", None, "reported_in"),
        ("queued", "release", None, "queued"),
        ("reported_in", "release", None, "reported_in"),
        ("queued", "close", None, "not_needed"),
        ("reported_in", "close", None, "not_needed"),
        ("signed_off", "withdraw", None, "withdrawn"),
    ],
)
def test_every_allowed_transition_leads_where_the_table_says(
    status: str, action: str, kind: str | None, after: str
) -> None:
    reported = frozenset({"contacted"}) if (status, kind) == ("reported_in", "on_site") else frozenset()
    assert transition(view(status, reported=reported), action, kind=kind) == after


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", ENDED)
def test_an_ended_assignment_refuses_every_action(status: str, action: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        transition(view(status), action, kind="contacted")
    assert refused.value.status == status
    assert refused.value.allowed == ()


def test_report_back_before_sign_off_is_refused_naming_the_status_and_what_is_allowed() -> None:
    with pytest.raises(InvalidTransition, match="queued") as refused:
        transition(view("queued"), "report_back")
    assert refused.value.allowed == ("sign_off", "return", "release")
    assert "sign-off, return, release" in str(refused.value)


def test_signing_off_twice_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition(view("signed_off"), "sign_off")


def test_report_in_before_sign_off_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition(view("queued"), "report_in", kind="on_site")


def test_reporting_in_the_same_kind_twice_is_refused_but_the_other_kind_is_taken() -> None:
    contacted = view("reported_in", reported=frozenset({"contacted"}))
    with pytest.raises(InvalidTransition, match="already reported in contacted"):
        transition(contacted, "report_in", kind="contacted")
    assert transition(contacted, "report_in", kind="on_site") == "reported_in"
    both = view("reported_in", reported=frozenset({"contacted", "on_site"}))
    assert "report_in" not in allowed_actions(both)


def test_an_extension_needs_the_order_signed_off() -> None:
    with pytest.raises(InvalidTransition):
        transition(view("queued"), "extension")


def test_the_district_backstop_may_not_return_an_order() -> None:
    backstop = view("signed_off", role="backstop")
    with pytest.raises(InvalidTransition, match="backstop may not return"):
        transition(backstop, "return")
    assert "return" not in allowed_actions(backstop)
    assert transition(view("signed_off", role="co"), "return") == "returned"


def test_allowed_actions_follow_the_status() -> None:
    assert allowed_actions(view("queued")) == ("sign_off", "return", "release")
    assert allowed_actions(view("signed_off")) == WORKER_ACTIONS[1:]
    assert allowed_actions(view("returned")) == ()


def test_the_lease_ends_with_the_work_or_a_release_and_is_renewed_otherwise() -> None:
    assert [a for a in WORKER_ACTIONS if ends_lease(a)] == ["report_back", "return", "release"]
    assert set(OPEN).isdisjoint(ENDED)


def test_whistle_is_answered_by_lead_street_or_backstop_not_by_co() -> None:
    assert not whistle_answered([view("signed_off"), view("reported_back", role="co")])
    assert whistle_answered([view("reported_back"), view("queued", role="co")])
    assert whistle_answered([view("reported_back", role="street")])
    assert whistle_answered([view("returned"), view("reported_back", role="backstop")])
