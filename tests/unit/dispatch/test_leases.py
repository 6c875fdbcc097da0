"""Claims with leases: who may act while a lease runs, what each action does to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.leases import NO_LEASE, HeldByAnother, Lease, claimed, lease_after, wait_for

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def held_by(worker: str, seconds: int = 60) -> Lease:
    return claimed(worker, now=NOW - timedelta(seconds=1), lease_seconds=seconds)


def test_an_action_of_another_worker_while_the_lease_runs_is_refused_naming_the_holder() -> None:
    with pytest.raises(HeldByAnother, match="'w1'") as refused:
        lease_after("sign_off", held_by("w1"), worker="w2", now=NOW)
    assert refused.value.holder == "w1"


def test_a_caller_naming_no_worker_is_refused_while_a_lease_runs() -> None:
    with pytest.raises(HeldByAnother):
        lease_after("sign_off", held_by("w1"), worker=None, now=NOW)


def test_the_holders_action_renews_the_lease_by_its_claims_length() -> None:
    renewed = lease_after("sign_off", held_by("w1", 120), worker="w1", now=NOW)
    assert renewed == Lease("w1", NOW + timedelta(seconds=120), 120)


@pytest.mark.parametrize("action", ["report_back", "return", "release"])
def test_finishing_returning_or_releasing_ends_the_lease(action: str) -> None:
    assert lease_after(action, held_by("w1"), worker="w1", now=NOW) == NO_LEASE


def test_an_action_naming_a_worker_on_an_unheld_assignment_gives_that_worker_the_claim() -> None:
    taken = lease_after("sign_off", NO_LEASE, worker="w9", now=NOW)
    assert taken.worker == "w9" and taken.expires_at == NOW + timedelta(seconds=300)


def test_an_app_without_claims_acts_on_an_unheld_assignment_and_leaves_it_unleased() -> None:
    assert lease_after("sign_off", NO_LEASE, worker=None, now=NOW) == NO_LEASE


def test_an_expired_lease_binds_nobody() -> None:
    expired = claimed("w1", now=NOW - timedelta(seconds=61), lease_seconds=60)
    assert not expired.held_at(NOW)
    assert lease_after("sign_off", expired, worker="w2", now=NOW).worker == "w2"


def test_a_waiting_claim_sleeps_until_the_next_lease_runs_out_or_the_wait_is_over() -> None:
    assert wait_for(remaining=10, next_expiry=None, now=NOW) == 10
    assert wait_for(remaining=10, next_expiry=NOW + timedelta(seconds=3), now=NOW) == 3
    assert wait_for(remaining=2, next_expiry=NOW + timedelta(seconds=3), now=NOW) == 2
    assert wait_for(remaining=2, next_expiry=NOW - timedelta(seconds=1), now=NOW) == 0
