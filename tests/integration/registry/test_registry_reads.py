"""Read endpoints against the real database: filters, cursor pagination, details, scopes."""

from __future__ import annotations

import pytest

from tests.integration.registry.conftest import Registry

pytestmark = pytest.mark.integration


async def collect(registry: Registry, path: str, **params: str) -> list[dict[str, object]]:
    """Every item of a list endpoint, one item per page, following the cursors."""
    items: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        query = {"limit": "1", **params} | ({"cursor": cursor} if cursor else {})
        page = (await registry.viewer.get(path, params=query)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(
    ("path", "params", "codes"),
    [
        ("/v1/districts", {}, ["d1"]),
        ("/v1/streets", {"district": "d1"}, ["s1", "s2"]),
        ("/v1/communities", {"street": "s2"}, ["s2-01", "s2-02"]),
        ("/v1/communities", {"bbox": "116.405,39.905,116.409,39.909"}, ["s1-01"]),
        ("/v1/street-units", {"kind": "enforcement_team"}, ["s1-enforcement", "s2-enforcement"]),
        ("/v1/departments", {"kind": "water"}, ["sw"]),
        ("/v1/agencies", {"street": "s2", "kind": "housing"}, ["d1-zjw"]),
        ("/v1/categories", {"urgency": "emergency"}, ["water_supply"]),
        ("/v1/categories", {"q": "供"}, ["heating", "water_supply"]),
        ("/v1/duty-list", {"category": "garbage_piling"}, ["city_management"]),
    ],
)
async def test_lists_filter_and_page_through_every_item(
    registry: Registry, path: str, params: dict[str, str], codes: list[str]
) -> None:
    assert [item["code"] for item in await collect(registry, path, **params)] == codes


async def test_rules_and_policies_page_by_id(registry: Registry) -> None:
    rules = await collect(registry, "/v1/rules")
    assert [r["category"] for r in rules] == ["garbage_piling", "illegal_construction", "water_supply"]
    assert all(r["in_force"] and r["effective_from"] is None for r in rules)
    policies = await collect(registry, "/v1/policies", kind="sla")
    assert [p["urgency"] for p in policies] == ["emergency", "urgent", "normal", "complex"]
    scoring = (await registry.viewer.get("/v1/policies", params={"kind": "scoring"})).json()["items"]
    assert scoring[0]["body"]["satisfaction"] == 0.3


async def test_community_detail_has_its_geojson_geometry(registry: Registry) -> None:
    community = (await registry.viewer.get("/v1/communities/s2-02")).json()
    assert community["district_code"] == "d1" and community["households"] == 500
    assert community["geometry"] == {
        "type": "Polygon",
        "coordinates": [
            [[116.41, 39.91], [116.42, 39.91], [116.42, 39.92], [116.41, 39.92], [116.41, 39.91]]
        ],
    }
    listed = (await registry.viewer.get("/v1/communities", params={"street": "s2"})).json()["items"][0]
    assert "geometry" not in listed


async def test_street_detail_geometry_is_the_union_of_its_communities(registry: Registry) -> None:
    street = (await registry.viewer.get("/v1/streets/s2")).json()
    assert street["boundary"] == "communities"
    assert street["geometry"]["type"] == "Polygon"
    stored = [[116.4, 39.91], [116.42, 39.91], [116.42, 39.92], [116.4, 39.92], [116.4, 39.91]]
    assert (await registry.admin.patch("/v1/streets/s2", json={"polygon": stored})).status_code == 200
    street = (await registry.viewer.get("/v1/streets/s2")).json()
    assert (street["boundary"], street["geometry"]["coordinates"]) == ("stored", [stored])


async def test_duty_list_shows_blocks_with_items(registry: Registry) -> None:
    blocks = (await registry.viewer.get("/v1/duty-list")).json()["items"]
    assert [(b["code"], [i["code"] for i in b["items"]]) for b in blocks] == [("city_management", ["cm-01"])]
    assert blocks[0]["items"][0]["categories"] == ["garbage_piling"]


async def test_unknown_entity_is_404_and_bad_cursor_400(registry: Registry) -> None:
    assert (await registry.viewer.get("/v1/districts/nowhere")).status_code == 404
    assert (await registry.viewer.get("/v1/rules/9999999")).status_code == 404
    response = await registry.viewer.get("/v1/streets", params={"cursor": "%%%"})
    assert response.status_code == 400


async def test_clients_are_listed_for_admins_without_secrets(registry: Registry) -> None:
    listed = (await registry.admin.get("/v1/clients")).json()["items"]
    assert [(c["client_id"], c["kind"]) for c in listed] == [
        ("admin", "admin"),
        ("hotline", "hotline"),
        ("viewer", "viewer"),
    ]
    assert all(set(c) == {"client_id", "kind", "department", "street", "district"} for c in listed)
    assert "scrypt" not in (await registry.admin.get("/v1/clients/hotline")).text
    assert (await registry.viewer.get("/v1/clients")).status_code == 403


async def test_every_endpoint_needs_a_token_with_the_right_scope(registry: Registry) -> None:
    assert (await registry.anonymous.get("/v1/districts")).status_code == 401
    assert (await registry.anonymous.get("/v1/snapshot")).status_code == 401
    assert (await registry.anonymous.post("/v1/resolve", json={"community_code": "s1-01"})).status_code == 401
    denied = await registry.viewer.post(
        "/v1/districts", json={"code": "d2", "name": "西区", "backstop": {"code": "d2-b", "name": "兜底"}}
    )
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")


async def test_calendar_lists_working_days_with_official_holidays(registry: Registry) -> None:
    days = (
        await registry.viewer.get("/v1/calendar", params={"from": "2026-09-30", "to": "2026-10-02"})
    ).json()
    assert [(d["date"], d["workday"], d["name"]) for d in days] == [
        ("2026-09-30", True, ""),
        ("2026-10-01", False, "National Day"),
        ("2026-10-02", False, "National Day"),
    ]
    too_long = await registry.viewer.get("/v1/calendar", params={"from": "2026-01-01", "to": "2027-06-01"})
    assert too_long.status_code == 400


async def test_snapshot_is_served_with_an_etag_and_304_when_unchanged(registry: Registry) -> None:
    first = await registry.viewer.get("/v1/snapshot")
    etag = first.headers["etag"]
    assert etag == f'"v{first.json()["version"]}"'
    again = await registry.viewer.get("/v1/snapshot", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await registry.admin.patch("/v1/categories/heating", json={"keywords": ["暖气", "供暖"]})
    changed = await registry.viewer.get("/v1/snapshot", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    heating = next(c for c in changed.json()["city"]["categories"] if c["code"] == "heating")
    assert heating["keywords"] == ["暖气", "供暖"]
