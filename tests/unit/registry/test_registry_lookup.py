"""Resolve and route over a built snapshot, the snapshot's ETag, calendar days and geometry (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.registry.lookup import resolve, route_explained
from services.registry.lookup_schemas import ResolveIn, RouteIn
from services.registry.snapshots import BuiltSnapshot, build, transitions
from services.registry.views import calendar_days, street_geometry
from shared.city import CityData, CitySnapshot, PolicyVersion, Rule, SlaPolicy, load_city
from shared.errors import Unprocessable
from tests.conftest import TINY_CITY

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny() -> CityData:
    return load_city(TINY_CITY)


@pytest.fixture(scope="module")
def built(tiny: CityData) -> BuiltSnapshot:
    rules = [
        *tiny.rules,
        Rule(id=40, category="water_supply", street="s2", lead="housing", co=["water"]),
    ]
    return build(tiny.model_copy(update={"rules": rules}), 7, version_made=None, now=NOW)


def test_point_resolves_to_community_street_and_district_with_names(built: BuiltSnapshot) -> None:
    found = resolve(built, ResolveIn(lat=39.915, lon=116.415))
    assert (found.community.code, found.community.name) == ("s2-02", "四社区")
    assert (found.street.code, found.street.name, found.street.kind) == ("s2", "二街道", "street")
    assert (found.district.code, found.district.name, found.snapshot_version) == ("d1", "东区", 7)


def test_community_code_resolves_without_a_point(built: BuiltSnapshot) -> None:
    assert resolve(built, ResolveIn(community_code="s1-02")).street.code == "s1"


def test_point_outside_the_city_is_refused_saying_so(built: BuiltSnapshot) -> None:
    with pytest.raises(Unprocessable) as caught:
        resolve(built, ResolveIn(lat=40.5, lon=117.0))
    assert "outside the city" in caught.value.detail


def test_unknown_community_code_is_refused(built: BuiltSnapshot) -> None:
    with pytest.raises(Unprocessable) as caught:
        resolve(built, ResolveIn(community_code="s9-01"))
    assert caught.value.errors == [{"field": "community_code", "message": "unknown community 's9-01'"}]


def test_resolve_needs_a_point_or_a_code_not_both() -> None:
    with pytest.raises(ValueError):
        ResolveIn(lat=39.9, lon=116.4, community_code="s1-01")
    with pytest.raises(ValueError):
        ResolveIn(lat=39.9)
    with pytest.raises(ValueError):
        ResolveIn()


def test_route_explains_each_matching_rule_most_specific_first(built: BuiltSnapshot) -> None:
    out = route_explained(built, RouteIn(category="water_supply", street_code="s2"), now=NOW)
    assert [(t.unit_code, t.name, t.role) for t in out.targets] == [
        ("d1-zjw", "东区住建委", "lead"),
        ("d1-sw", "东区水务局", "co"),
    ]
    assert [(m.rule["id"], m.applied) for m in out.rules] == [(40, True), (None, False)]
    assert "more specific" in out.rules[1].why
    assert out.at == NOW and out.snapshot_version == 7 and out.district_code == "d1"


def test_route_passes_over_excluded_units(built: BuiltSnapshot) -> None:
    body = RouteIn(category="garbage_piling", street_code="s1", exclude=["s1-enforcement"])
    out = route_explained(built, body, now=NOW)
    assert [t.role for t in out.targets] == ["backstop"]


def test_route_of_unknown_codes_names_each_field(built: BuiltSnapshot) -> None:
    with pytest.raises(Unprocessable) as caught:
        route_explained(built, RouteIn(category="nope", street_code="nowhere"), now=NOW)
    assert [e["field"] for e in caught.value.errors or []] == ["category", "street_code"]


def test_route_at_a_past_moment_uses_the_rules_then(tiny: CityData) -> None:
    switch = NOW - timedelta(days=10)
    rules = [
        Rule(id=1, category="heating", lead="water", effective_to=switch),
        Rule(id=2, category="heating", lead="housing", effective_from=switch),
    ]
    built = build(tiny.model_copy(update={"rules": rules}), 3, version_made=None, now=NOW)
    before = route_explained(
        built, RouteIn(category="heating", street_code="s1", at=switch - timedelta(1)), now=NOW
    )
    after = route_explained(built, RouteIn(category="heating", street_code="s1"), now=NOW)
    assert before.targets[0].unit_code == "d1-sw" and [m.rule["id"] for m in before.rules] == [1]
    assert after.targets[0].unit_code == "d1-zjw"


def test_snapshot_etag_moves_when_a_scheduled_change_comes_into_force(tiny: CityData) -> None:
    made = NOW - timedelta(days=1)
    later = NOW + timedelta(hours=1)
    city = tiny.model_copy(update={"rules": [Rule(category="heating", lead="water", effective_from=later)]})
    before = build(city, 5, version_made=made, now=NOW)
    assert before.etag == '"v5"' and before.valid_until == later
    assert before.fresh(5, NOW) and not before.fresh(5, later) and not before.fresh(6, NOW)
    after = build(city, 5, version_made=made, now=later)
    assert after.etag == '"v5.1"' and after.valid_until is None
    assert transitions(city) == [later]
    assert CitySnapshot.model_validate_json(after.body).city.rules[0].effective_from == later


def test_policies_at_picks_the_version_in_force(tiny: CityData) -> None:
    fast = SlaPolicy(sign_off="5m", contact="1h", report_in="1h", resolve="1d")
    switch = NOW - timedelta(days=1)
    history = [
        PolicyVersion(urgency="normal", sla=tiny.policies.sla["normal"], effective_to=switch),
        PolicyVersion(urgency="normal", sla=fast, effective_from=switch),
    ]
    city = tiny.model_copy(update={"policy_history": history})
    assert city.policies_at(NOW).sla["normal"] == fast
    assert city.policies_at(switch - timedelta(seconds=1)).sla["normal"] == tiny.policies.sla["normal"]
    assert city.policies_at(NOW).sla["urgent"] == tiny.policies.sla["urgent"]


def test_calendar_days_say_who_decided() -> None:
    days = calendar_days(date(2026, 2, 14), date(2026, 2, 15), {})
    assert [(d.workday, d.source, d.name) for d in days] == [
        (True, "official", "Spring Festival"),  # a make-up working Saturday (调休)
        (False, "official", "Spring Festival"),
    ]
    overridden = calendar_days(date(2026, 7, 20), date(2026, 7, 20), {date(2026, 7, 20): (False, "暴雨停工")})
    assert [(d.workday, d.source, d.name) for d in overridden] == [(False, "override", "暴雨停工")]
    far = calendar_days(date(2099, 1, 3), date(2099, 1, 5), {})
    assert [(d.workday, d.source) for d in far] == [(False, "weekday"), (False, "weekday"), (True, "weekday")]


def test_street_geometry_is_the_stored_boundary_or_the_union_of_its_communities(tiny: CityData) -> None:
    s1 = tiny.districts[0].streets[0]
    union = street_geometry(None, [c.polygon for c in s1.communities])
    assert union is not None and union["type"] == "Polygon"
    assert sorted({tuple(p) for p in union["coordinates"][0]}) == [
        (116.4, 39.9),
        (116.4, 39.91),
        (116.41, 39.9),
        (116.41, 39.91),
        (116.42, 39.9),
        (116.42, 39.91),
    ]
    stored = [[116.0, 39.0], [116.1, 39.0], [116.1, 39.1], [116.0, 39.0]]
    assert street_geometry(stored, []) == {"type": "Polygon", "coordinates": [stored]}
    assert street_geometry(None, []) is None
