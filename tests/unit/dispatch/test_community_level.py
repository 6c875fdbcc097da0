"""The community level's pure rules: the community guard (who a community's whistle summons, what a
committee may be handed), routing to a committee, the access of a community's client, and the
chain of whistles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.chains import Link, chain
from services.dispatch.community_summons import (
    CommunityOwnWork,
    OffCommunityList,
    committee_targets,
    community_whistle_targets,
    street_desk,
)
from services.dispatch.summons import whistle_kind
from shared.access import (
    Owner,
    Principal,
    check_may_blow_community_whistle,
    check_may_read_community,
    may_act_for_unit,
    may_read_community_whistles,
    may_see_complaint,
    scopes_for,
)
from shared.city_index import CityIndex
from shared.errors import Forbidden, Unprocessable
from shared.routing import COMMUNITY, Target, route
from tests.community_city import community_city

INDEX = CityIndex.build(community_city())
DESK = ("grid-centre", "citizen-centre")


def community_client(code: str = "s1-01") -> Principal:
    return Principal(
        client_id=f"community-{code}", kind="community", scopes=scopes_for("community"), community=code
    )


# --- the community guard ---


def test_a_community_whistle_for_a_matter_on_the_community_duty_list_is_the_communitys_own_work() -> None:
    with pytest.raises(CommunityOwnWork) as refused:
        community_whistle_targets(INDEX, category="neighbor_dispute", community_code="s1-01", desk=DESK)
    assert refused.value.errors[0]["field"] == "body.category"
    assert "社区工作准入清单" in refused.value.detail and "cw-01" in refused.value.detail


def test_a_community_whistle_for_a_street_duty_list_matter_summons_the_streets_own_unit() -> None:
    targets, _ = community_whistle_targets(
        INDEX, category="garbage_piling", community_code="s1-01", desk=DESK
    )
    assert targets == (Target("s1-enforcement", None, "street"),)


def test_a_community_whistle_for_a_matter_off_the_street_duty_list_summons_the_streets_desk() -> None:
    targets, reasons = community_whistle_targets(
        INDEX, category="illegal_construction", community_code="s1-01", desk=DESK
    )
    assert targets == (Target("s1-city-office", None, "street"),)  # no grid centre: its first office
    assert "community s1-01 whistled its street s1" in reasons[0]


def test_the_streets_desk_is_the_first_unit_the_policy_names() -> None:
    assert street_desk(INDEX, "s1", ("enforcement", "city-office")) == "s1-enforcement"
    assert street_desk(INDEX, "s2", DESK) == "s2-enforcement"  # no office: its first unit


def test_a_street_may_hand_committees_only_a_matter_on_the_community_duty_list() -> None:
    assert committee_targets(
        INDEX, category="neighbor_dispute", street_code="s1", communities=["s1-01", "s1-02"]
    ) == (Target("s1-01-committee", None, COMMUNITY), Target("s1-02-committee", None, COMMUNITY))
    with pytest.raises(OffCommunityList) as refused:
        committee_targets(INDEX, category="garbage_piling", street_code="s1", communities=["s1-01"])
    assert refused.value.errors[0]["field"] == "body.communities"
    assert "社区工作准入清单" in refused.value.errors[0]["message"]


def test_a_street_names_only_its_own_communities_every_problem_at_once() -> None:
    with pytest.raises(Unprocessable) as refused:
        committee_targets(INDEX, category="neighbor_dispute", street_code="s1", communities=["s2-01", "nope"])
    assert [e["field"] for e in refused.value.errors] == ["body.communities.0", "body.communities.1"]


# --- routing a complaint to a committee ---


def test_a_rule_hands_a_community_duty_list_matter_to_the_committee_of_the_complaints_community() -> None:
    decision = route(INDEX, category="neighbor_dispute", street_code="s1", community_code="s1-02")
    assert decision.targets == (Target("s1-02-committee", None, COMMUNITY),)
    assert whistle_kind(decision) == "duty_community"


def test_a_rule_handing_a_committee_an_off_list_matter_is_refused_and_the_backstop_takes_it() -> None:
    city = community_city()
    off_list = city.model_copy(update={"community_duty_list": []})  # the list changed under the rule
    decision = route(
        CityIndex.build(off_list), category="neighbor_dispute", street_code="s1", community_code="s1-01"
    )
    assert decision.refused_pushdown and decision.refused_to == "community"
    assert decision.targets == (Target("d1-backstop", None, "backstop"),)
    assert "社区工作准入清单" in decision.reasons[0]


def test_a_committee_that_returned_the_matter_is_passed_over() -> None:
    decision = route(
        INDEX,
        category="neighbor_dispute",
        street_code="s1",
        community_code="s1-01",
        exclude=frozenset({"s1-01-committee"}),
    )
    assert decision.lead.role == "backstop"


# --- a community's client ---


def test_a_community_client_blows_and_reads_its_own_communitys_whistles_only() -> None:
    own = community_client("s1-01")
    check_may_blow_community_whistle(own, "s1-01")
    check_may_read_community(own, "s1-01", street_code="s1")
    with pytest.raises(Forbidden):
        check_may_blow_community_whistle(own, "s1-02")
    with pytest.raises(Forbidden):
        check_may_read_community(own, "s1-02", street_code="s1")
    street = Principal(client_id="street-s1", kind="street", scopes=scopes_for("street"), street="s1")
    check_may_read_community(street, "s1-01", street_code="s1")
    with pytest.raises(Forbidden):
        check_may_blow_community_whistle(street, "s1-01")


def test_a_community_client_acts_on_its_committees_assignments_only() -> None:
    own = community_client("s1-01")
    assert may_act_for_unit(own, INDEX.owners["s1-01-committee"])
    assert not may_act_for_unit(own, INDEX.owners["s1-02-committee"])
    assert not may_act_for_unit(own, Owner(street_code="s1"))
    assert may_read_community_whistles(own, community_codes={"s1-01"})
    assert not may_read_community_whistles(own, community_codes={"s1-01", None})
    assert not may_see_complaint(own, street_code="s1", departments=[])
    assert may_see_complaint(own, street_code="s1", departments=[], community_code="s1-01")
    assert "whistle:blow" in own.scopes and "contact:read" not in own.scopes


# --- the chain of whistles ---

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def link(whistle_id: str, parent: str | None = None, minutes: int = 0, kind: str = "street_whistle") -> Link:
    return Link(whistle_id, parent, kind, "s1", None, "open", T0 + timedelta(minutes=minutes), ())


def test_the_chain_runs_community_street_departments_root_first_on_every_whistle() -> None:
    links = [
        link("street-2", "community", 5),
        link("community", None, 0, "community_whistle"),
        link("street-1", "community", 1),
        link("department", "street-1", 2),
    ]
    expected = ["community", "street-1", "department", "street-2"]
    for whistle_id in expected:
        assert [k.whistle_id for k in chain(whistle_id, links)] == expected, whistle_id


def test_a_whistle_that_stands_alone_has_no_chain() -> None:
    assert chain("alone", [link("alone")]) == []
    assert chain("community", [link("community", None, 0, "community_whistle")]) == []


def test_a_chain_whose_root_is_out_of_reach_starts_at_the_first_whistle_known() -> None:
    links = [link("street-1", "gone", 1), link("department", "street-1", 2)]
    assert [k.whistle_id for k in chain("department", links)] == ["street-1", "department"]
