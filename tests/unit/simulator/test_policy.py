"""The compressed policy: durations divided by the speed, in seconds."""

from __future__ import annotations

from services.simulator.policy import compress, compressed_dispatch, compressed_sla, deadlines, seconds_of


def test_durations_are_divided_by_the_speed_in_whole_seconds_never_below_one() -> None:
    assert compress("7d", 720) == "840s"
    assert compress("2h", 720) == "10s"
    assert compress("5m", 720) == "1s"
    assert compress("30s", 1) == "30s"
    assert seconds_of("3wd") == 3 * 86_400 * 7 / 5


def test_a_policy_copy_keeps_its_warning_point_and_every_other_field() -> None:
    sla = {"sign_off": "30m", "contact": "24h", "report_in": "24h", "resolve": "7d", "warn_at": 0.8}
    assert compressed_sla(sla, 720) == {
        "sign_off": "3s", "contact": "120s", "report_in": "120s", "resolve": "840s", "warn_at": 0.8
    }  # fmt: skip
    dispatch = {
        "bounce_limit": 2,
        "escalation": [{"when": "breached", "after": "30m", "action": "district"}, {"when": "warning"}],
        "community_whistle_desk": ["grid-centre"],
    }
    assert compressed_dispatch(dispatch, 60) == dispatch | {
        "escalation": [{"when": "breached", "after": "30s", "action": "district"}, {"when": "warning"}]
    }
    assert deadlines(sla).resolve == 7 * 86_400
