"""The demo city (data/demo_city/): loads, validates clean, and has the shape the demo relies on."""

from __future__ import annotations

from collections import Counter

import pytest

from services.registry.city_data import DEMO_CITY
from services.registry.city_validation import ValidationIndex, validate_city
from shared.city import CityData, load_city

DEMO = DEMO_CITY
UNIT_SLUGS = [
    "party",
    "safety",
    "city-management",
    "community",
    "livelihood",
    "support",
    "enforcement",
    "party-centre",
    "citizen-centre",
    "grid-centre",
]


@pytest.fixture(scope="module")
def demo() -> CityData:
    return load_city(DEMO)


def test_demo_city_validates_clean(demo: CityData) -> None:
    assert validate_city(demo) == []


def test_demo_city_is_one_file_per_kind() -> None:
    assert sorted(p.name for p in DEMO.iterdir()) == [
        "categories.yaml",
        "city.yaml",
        "clients.yaml",
        "communities.yaml",
        "community_duty_list.yaml",
        "departments.yaml",
        "districts.yaml",
        "duty_list.yaml",
        "policies.yaml",
        "rules.yaml",
    ]


def test_demo_files_keep_chinese_readable() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in DEMO.glob("*.yaml"))
    assert "东城区" in text and "什刹海街道" in text and "多福巷社区" in text
    assert "\\u" not in text


def test_demo_city_geography(demo: CityData) -> None:
    assert (demo.city.code, demo.city.name) == ("beijing", "北京市")
    assert [(d.code, d.name) for d in demo.districts] == [("dongcheng", "东城区"), ("xicheng", "西城区")]
    assert [d.backstop.code for d in demo.districts] == ["dongcheng-backstop", "xicheng-backstop"]
    streets = [s for d in demo.districts for s in d.streets]
    assert len(streets) >= 6
    names = {s.name for s in streets}
    assert {"东华门街道", "景山街道", "什刹海街道", "新街口街道"} <= names
    communities = [c for s in streets for c in s.communities]
    assert len(communities) >= 40
    for street in streets:
        assert len(street.communities) >= 6, street.code
        assert all(
            c.code.startswith(street.code + "-") and len(c.code) == len(street.code) + 3
            for c in street.communities
        )
        assert all(c.households > 0 and c.name.endswith("社区") for c in street.communities)
        for community in street.communities:
            for lon, lat in community.polygon:
                assert 116.35 <= lon <= 116.44 and 39.89 <= lat <= 39.96, community.code


def test_every_street_has_six_offices_one_team_three_centres(demo: CityData) -> None:
    for street in (s for d in demo.districts for s in d.streets):
        assert Counter(u.kind for u in street.units) == {"office": 6, "enforcement_team": 1, "centre": 3}
        assert [u.code for u in street.units] == [f"{street.code}-{slug}" for slug in UNIT_SLUGS]
        enforcement = [u for u in street.units if u.kind == "enforcement_team"]
        assert enforcement[0].name.endswith("综合行政执法队")


def test_demo_departments_cover_every_street(demo: CityData) -> None:
    assert len(demo.departments) >= 12
    kinds = {d.kind for d in demo.departments}
    assert {
        "city_management",
        "housing",
        "water",
        "environment",
        "market_regulation",
        "transport",
        "public_security",
        "landscaping",
        "health",
        "civil_affairs",
        "enforcement",
        "heating",
        "water_supply",
        "power",
        "gas",
    } <= kinds
    streets = {s.code for d in demo.districts for s in d.streets}
    for dept in demo.departments:
        assert {a.district for a in dept.agencies} == {"dongcheng", "xicheng"}, dept.code
        assert {s for a in dept.agencies for s in a.serves} == streets, dept.code
        prefixes = {a.code.split("-")[0] for a in dept.agencies}
        assert prefixes == {"dc", "xc"}


def test_demo_categories(demo: CityData) -> None:
    categories = {c.code: c for c in demo.categories}
    assert len(categories) >= 30
    assert all(c.name and c.name_en and c.group and c.keywords and c.attributes for c in categories.values())
    datatypes = {a.datatype for c in categories.values() for a in c.attributes}
    assert datatypes == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    for c in categories.values():
        for a in c.attributes:
            assert bool(a.values) == (a.datatype in {"singlevaluelist", "multivaluelist"}), (c.code, a.code)
    for code in ("gas", "power_outage", "water_supply"):
        assert categories[code].urgency == "emergency"
    assert categories["heating"].urgency == "urgent"


def test_demo_duty_list(demo: CityData) -> None:
    assert [b.name for b in demo.duty_list] == [
        "党群工作和社区建设",
        "平安建设",
        "城市管理",
        "社区治理",
        "民生保障",
        "综合保障",
    ]
    assert all(len(b.items) >= 3 for b in demo.duty_list)
    assert sum(len(b.items) for b in demo.duty_list) >= 20
    assert all(item.categories for b in demo.duty_list for item in b.items)
    on_list = ValidationIndex.build(demo).duty_categories
    assert {
        "garbage_piling",
        "back_alley",
        "street_vendor",
        "illegal_advertising",
        "shared_bike",
        "neighbor_dispute",
        "community_facility",
        "dog_keeping",
    } <= on_list
    assert not on_list & {
        "heating",
        "water_supply",
        "power_outage",
        "gas",
        "food_safety",
        "illegal_construction",
        "elevator",
    }


def test_demo_rules_route_every_category_by_the_duty_list(demo: CityData) -> None:
    on_list = ValidationIndex.build(demo).duty_categories
    city_wide = {r.category: r for r in demo.rules if r.district is None and r.street is None}
    assert set(city_wide) == {c.code for c in demo.categories}
    for rule in city_wide.values():
        if rule.category in on_list:
            assert rule.street_unit_kind is not None and rule.lead is None, rule.category
        else:
            assert rule.lead is not None and rule.street_unit_kind is None, rule.category
    narrowed = [r for r in demo.rules if r.district or r.street]
    assert any(
        r.district == "xicheng"
        and r.category == "noise"
        and r.lead == "public_security"
        and r.co == ["environment"]
        for r in narrowed
    )
    assert any(r.street is not None for r in narrowed)


def test_demo_policies(demo: CityData) -> None:
    sla = demo.policies.sla
    assert sla["emergency"].model_dump() == {
        "sign_off": "5m",
        "contact": "30m",
        "report_in": "30m",
        "resolve": "2h",
        "warn_at": 0.8,
    }
    assert sla["urgent"].model_dump() == {
        "sign_off": "15m",
        "contact": "2h",
        "report_in": "2h",
        "resolve": "24h",
        "warn_at": 0.8,
    }
    assert sla["normal"].model_dump() == {
        "sign_off": "30m",
        "contact": "24h",
        "report_in": "24h",
        "resolve": "7d",
        "warn_at": 0.8,
    }
    assert sla["complex"].model_dump() == {
        "sign_off": "1h",
        "contact": "2d",
        "report_in": "3wd",
        "resolve": "15wd",
        "warn_at": 0.8,
    }
    assert demo.policies.scoring.model_dump() == {
        "response": 0.2,
        "resolution": 0.3,
        "satisfaction": 0.3,
        "on_time": 0.1,
        "street_evaluation": 0.1,
        "min_sample": 5,
        "basically_satisfied": 0.8,
        "whistle_rate_low": 0.5,
        "whistle_rate_high": 10.0,
    }
    dispatch = demo.policies.dispatch
    assert dispatch.bounce_limit == 2
    assert [(s.when, s.stage, s.after, s.action) for s in dispatch.escalation] == [
        ("warning", "any", None, "remind"),
        ("breached", "sign_off", None, "remind"),
        ("breached", "sign_off", "30m", "district"),
        ("breached", "contact", None, "remind"),
        ("breached", "report_in", None, "district"),
        ("breached", "resolve", None, "backstop_joins"),
    ]


def test_demo_clients(demo: CityData) -> None:
    clients = {c.client_id: c for c in demo.clients}
    assert clients["hotline"].kind == "hotline"
    assert clients["admin"].kind == "admin" and clients["viewer"].kind == "viewer"
    for dept in demo.departments:
        client = clients[f"dept-{dept.code}"]
        assert (client.kind, client.department) == ("department", dept.code)
    for street in (s for d in demo.districts for s in d.streets):
        client = clients[f"street-{street.code}"]
        assert (client.kind, client.street) == ("street", street.code)
    for district in demo.districts:
        client = clients[f"district-{district.code}"]
        assert (client.kind, client.district) == ("district", district.code)
    communities = [c for d in demo.districts for s in d.streets for c in s.communities]
    for community in communities:
        client = clients[f"community-{community.code}"]
        assert (client.kind, client.community) == ("community", community.code)
    assert all(c.secret == f"demo-{c.client_id}-secret" for c in demo.clients)
    streets = sum(len(d.streets) for d in demo.districts)
    assert len(clients) == 3 + len(demo.departments) + streets + len(demo.districts) + len(communities)
