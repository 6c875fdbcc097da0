"""Open311 GeoReport v2 on the running stack: our own checks of every document in JSON and XML,
reads keyed by default, positions for every request, errors in Open311's format for anything under
`/open311/v2/`, and a PyPI Open311 client (`georeport`) reading back what was filed."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import georeport.georeport
import httpx
import pytest
import requests
from georeport import GeoReport

from tests.e2e.polling import eventually
from tests.e2e.test_intake_api import random_point, resolve_by_department

pytestmark = pytest.mark.e2e

BASE = "/open311/v2"


def form(api_key: str, **fields: Any) -> dict[str, Any]:
    point = random_point()
    values: dict[str, Any] = {
        "api_key": api_key,
        "service_code": "garbage_piling",
        "lat": str(point["lat"]),
        "long": str(point["lon"]),
        "description": "小区门口垃圾堆积 🗑️ 三天没人清",
        "first_name": "小红",
        "last_name": "李",
        "phone": "13711112222",
        "email": "lxh@example.cn",
        "media_url": "https://img.example.cn/1.jpg",
    }
    values.update(fields)
    return values


def keyed(stack, api_key: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    """An Open311 client sending its api_key on every call, as request reads need it here."""
    return httpx.AsyncClient(base_url=stack.urls["intake"], params={"api_key": api_key}, timeout=10)


@pytest.fixture(scope="module")
def api_key(stack) -> str:  # type: ignore[no-untyped-def]
    return str(stack.api_key("hotline"))


async def test_discovery_and_services_in_json_and_xml(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake") as client:
        discovery = (await client.get(f"{BASE}/discovery.json")).json()
        assert discovery["endpoints"][0]["url"].endswith("/open311/v2")
        assert "+08:00" in discovery["changeset"]
        assert discovery["jurisdiction_id"] == "tiny"
        assert "updated_datetime" in discovery["sync"] and "1000" in discovery["sync"]
        resources = {
            (r["path"], method): r["api_key"]
            for endpoint in discovery["endpoints"]
            for r in endpoint["resources"]
            for method in r["methods"]
        }
        assert resources[("requests", "GET")] == resources[("servicerequestupdates", "GET")] == "required"
        assert resources[("servicerequestupdates", "POST")] == "required"
        assert resources[("services", "GET")] == resources[("tokens/{token}", "GET")] == "none"
        assert all(e["formats"] == ["text/xml", "application/json"] for e in discovery["endpoints"])
        xml_discovery = ET.fromstring((await client.get(f"{BASE}/discovery.xml")).content)
        assert xml_discovery.findtext("jurisdiction_id") == "tiny"
        assert "servicerequestupdates" in [p.text for p in xml_discovery.iter("path")]
        services = (await client.get(f"{BASE}/services.json")).json()
        garbage = next(s for s in services if s["service_code"] == "garbage_piling")
        assert garbage == {
            "service_code": "garbage_piling",
            "service_name": "垃圾堆放",
            "description": "Garbage piling",
            "metadata": True,
            "type": "realtime",
            "keywords": "垃圾,堆放",
            "group": "市容环境",
        }
        xml = await client.get(f"{BASE}/services.xml")
        assert xml.headers["content-type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(xml.content)
        assert root.tag == "services" and root.find("service/service_name") is not None
        definition = (await client.get(f"{BASE}/services/garbage_piling.json")).json()
        assert [a["code"] for a in definition["attributes"]] == ["volume", "kinds"]
        assert definition["attributes"][0]["values"] == [
            {"key": "small", "name": "少量"},
            {"key": "large", "name": "大量"},
        ]
        xml_def = ET.fromstring((await client.get(f"{BASE}/services/garbage_piling.xml")).content)
        assert xml_def.tag == "service_definition"
        assert [v.text for v in xml_def.iter("key")] == [
            "small",
            "large",
            "household",
            "construction",
            "bulky",
        ]
        missing = await client.get(f"{BASE}/services/ufo.xml")
        assert missing.status_code == 404 and ET.fromstring(missing.content).tag == "errors"
        assert (
            await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "tiny"})
        ).status_code == 200
        assert (
            await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "elsewhere"})
        ).status_code == 404
        assert (await client.get(f"{BASE}/services.json", params={"jurisdiction_id": ""})).status_code == 200


async def test_a_request_filed_as_a_form_is_read_back_with_every_field(stack, api_key) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake") as client:
        fields = form(api_key, **{"attribute[volume]": "large", "attribute[kinds][]": ["household", "bulky"]})
        filed = await client.post(f"{BASE}/requests.json", data=fields)
        assert filed.status_code == 201, filed.text
        [created] = filed.json()
        request_id, token = created["service_request_id"], created["token"]
        [by_token] = (await client.get(f"{BASE}/tokens/{token}.json")).json()  # no key needed
        assert by_token == {"service_request_id": request_id, "token": token}
        keyless = await client.get(f"{BASE}/requests/{request_id}.xml")
        assert keyless.status_code == 403 and ET.fromstring(keyless.content).findtext("error/code") == "403"
        [request] = (
            await client.get(f"{BASE}/requests/{request_id}.json", params={"api_key": api_key})
        ).json()
        assert request["status"] == "open" and request["service_code"] == "garbage_piling"
        assert request["description"] == fields["description"]
        assert request["service_name"] == "垃圾堆放"
        assert request["address"].startswith("东区二街道") and request["address_id"].startswith("s2-")
        assert request["media_url"] == "https://img.example.cn/1.jpg"
        assert float(request["lat"]) == float(fields["lat"]) and float(request["long"]) == float(
            fields["long"]
        )
        assert request["requested_datetime"].endswith("+08:00")
        assert request["updated_datetime"].endswith("+08:00") and "." in request["updated_datetime"]
        assert "李" not in filed.text and "13711112222" not in str(request)

        async with stack.client("intake", as_client="hotline") as v1:
            stored = (await v1.get(f"/v1/complaints/{request_id}")).json()
        assert stored["attributes"] == {"volume": "large", "kinds": ["household", "bulky"]}
        assert stored["reporter"] == {"name": "李**", "phone": "137****2222"}  # 李小红, family name first


async def test_a_request_placed_by_address_is_shown_at_its_communitys_point(stack, api_key) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake") as client:
        fields = form(
            api_key, lat="", long="", address_string="东区二街道四社区5号楼前", service_code="heating"
        )
        multipart = {name: (None, str(value)) for name, value in fields.items()}
        filed = await client.post(f"{BASE}/requests.xml", files=multipart)
        assert filed.status_code == 201, filed.text
        root = ET.fromstring(filed.content)
        assert root.tag == "service_requests"
        request_id = root.findtext("request/service_request_id")
        [request] = (
            await client.get(f"{BASE}/requests/{request_id}.json", params={"api_key": api_key})
        ).json()
        assert request["address_id"] == "s2-02"
        # Inside 四社区 (116.41–116.42, 39.91–39.92): the community's representative point.
        assert 39.91 < request["lat"] < 39.92 and 116.41 < request["long"] < 116.42
        by_code = await client.post(
            f"{BASE}/requests.json",
            data=form(api_key, lat="", long="", address_id="s2-02", service_code="heating"),
        )
        [same_place] = (
            await client.get(
                f"{BASE}/requests.json",
                params={"api_key": api_key, "service_request_id": by_code.json()[0]["service_request_id"]},
            )
        ).json()
        assert (same_place["lat"], same_place["long"]) == (request["lat"], request["long"])
    async with stack.client("intake", as_client="hotline") as v1:
        stored = (await v1.get(f"/v1/complaints/{request_id}")).json()
    assert (stored["lat"], stored["lon"], stored["approximate"]) == (request["lat"], request["long"], True)


async def test_bad_requests_get_every_error_at_once_in_the_format_asked(stack, api_key) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake") as client:
        assert (await client.post(f"{BASE}/requests.json", data=form(""))).status_code == 403
        forbidden = await client.post(f"{BASE}/requests.xml", data=form("not-a-key"))
        assert (
            forbidden.status_code == 403 and ET.fromstring(forbidden.content).findtext("error/code") == "403"
        )
        bad = await client.post(
            f"{BASE}/requests.json",
            data=form(api_key, lat="abc", description="长" * 4001, **{"attribute[volume]": "huge"}),
        )
        assert bad.status_code == 400
        descriptions = [e["description"] for e in bad.json()]
        assert len(descriptions) >= 2 and all(e["code"] == 400 for e in bad.json())
        assert any("lat" in d for d in descriptions) and any("4000" in d for d in descriptions)
        attribute = await client.post(
            f"{BASE}/requests.json", data=form(api_key, **{"attribute[volume]": "huge"})
        )
        assert attribute.status_code == 400 and "attribute[volume]" in attribute.json()[0]["description"]
        nowhere = await client.post(f"{BASE}/requests.json", data=form(api_key, lat="31.23", long="121.47"))
        assert nowhere.status_code == 400 and "outside" in nowhere.json()[0]["description"]
        unknown = await client.post(f"{BASE}/requests.json", data=form(api_key, service_code="ufo"))
        assert unknown.status_code == 400
        as_json = await client.post(f"{BASE}/requests.json", json=form(api_key))
        assert as_json.status_code == 400
        missing = await client.get(f"{BASE}/requests/{uuid.uuid4()}.json", params={"api_key": api_key})
        assert missing.status_code == 404
        assert (await client.get(f"{BASE}/tokens/nope.xml")).status_code == 404
        assert (await client.get(f"{BASE}/services.yaml")).status_code == 404
        huge = await client.post(f"{BASE}/requests.xml", data=form(api_key, description="长" * 30_000))
        assert huge.status_code == 413 and ET.fromstring(huge.content).findtext("error/code") == "413"
        key_in_query = await client.post(
            f"{BASE}/requests.json", params={"api_key": api_key}, data={**form(""), "api_key": ""}
        )
        assert key_in_query.status_code == 201, key_in_query.text


async def test_every_answer_under_open311_is_in_its_error_format(stack, api_key) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake") as client:
        unknown = await client.get(f"{BASE}/nothing/here.xml")
        assert unknown.status_code == 404 and ET.fromstring(unknown.content).findtext("error/code") == "404"
        assert unknown.headers["content-type"] == "text/xml; charset=utf-8"
        wrong_method = await client.delete(f"{BASE}/requests.json", params={"api_key": api_key})
        assert wrong_method.status_code == 405 and wrong_method.json()[0]["code"] == 405
        assert wrong_method.headers["allow"] == "GET, POST"
        put = await client.put(f"{BASE}/services/heating.xml")
        assert put.status_code == 405 and ET.fromstring(put.content).tag == "errors"
        deep = await client.get(
            f"{BASE}/requests.json", params={"api_key": api_key, "page": 1_000_000, "page_size": 10}
        )
        assert deep.status_code == 400 and "updated_datetime" in deep.json()[0]["description"]
        no_key = await client.get(f"{BASE}/requests.json")
        assert no_key.status_code == 403 and no_key.json()[0]["code"] == 403
        bad_key = await client.get(f"{BASE}/servicerequestupdates.xml", params={"api_key": "forged"})
        assert bad_key.status_code == 403 and ET.fromstring(bad_key.content).tag == "errors"


async def test_requests_are_searched_by_id_code_date_and_status(stack, api_key) -> None:  # type: ignore[no-untyped-def]
    async with keyed(stack, api_key) as client:
        since = (datetime.now().astimezone() - timedelta(seconds=1)).isoformat()
        ids = []
        for _ in range(3):
            filed = await client.post(
                f"{BASE}/requests.json", data=form(api_key, service_code="water_supply")
            )
            ids.append(filed.json()[0]["service_request_id"])
        by_id = (
            await client.get(
                f"{BASE}/requests.json", params={"service_request_id": ",".join(ids[:2]), "status": "closed"}
            )
        ).json()
        assert sorted(r["service_request_id"] for r in by_id) == sorted(ids[:2])  # the ids override the rest

        async def search(**params: Any) -> list[dict[str, Any]]:
            answer = await client.get(f"{BASE}/requests.json", params={"start_date": since, **params})
            assert answer.status_code == 200, answer.text
            return list(answer.json())

        async def settled() -> list[dict[str, Any]]:
            # Searches show changes once they are a few seconds old (the settle horizon).
            found = await search(service_code="water_supply,heating", status="open")
            return found if set(ids) <= {r["service_request_id"] for r in found} else []

        found = await eventually(settled)
        moments = [r["updated_datetime"] for r in found]
        assert moments == sorted(moments)  # oldest change first
        closed = await search(service_code="water_supply", status="closed")
        assert not set(ids) & {r["service_request_id"] for r in closed}
        page = await search(service_code="water_supply", page_size=2, page=1)
        assert len(page) == 2
        old = (
            await client.get(
                f"{BASE}/requests.json",
                params={"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-02-01T00:00:00Z"},
            )
        ).json()
        assert old == []
        too_wide = await client.get(
            f"{BASE}/requests.xml",
            params={
                "start_date": "2020-01-01T00:00:00Z",
                "end_date": "2020-06-01T00:00:00Z",
                "status": "pending",
            },
        )
        assert too_wide.status_code == 400
        assert len(ET.fromstring(too_wide.content).findall("error")) == 2
        xml = ET.fromstring(
            (await client.get(f"{BASE}/requests.xml", params={"service_request_id": ids[0]})).content
        )
        assert xml.tag == "service_requests" and xml.findtext("request/service_request_id") == ids[0]
        assert xml.find("request/expected_datetime") is not None


async def test_agency_and_expected_time_come_from_dispatch_and_sla_and_status_closes(stack, api_key) -> None:  # type: ignore[no-untyped-def]
    async with keyed(stack, api_key) as client:
        filed = await client.post(
            f"{BASE}/requests.json", data=form(api_key, service_code="illegal_construction")
        )
        request_id = filed.json()[0]["service_request_id"]

        async def dispatched() -> dict[str, Any] | None:
            [request] = (await client.get(f"{BASE}/requests/{request_id}.json")).json()
            return request if request["agency_responsible"] and request["expected_datetime"] else None

        request = await eventually(dispatched)
        assert request["agency_responsible"] == "东区住建委"
        expected = datetime.fromisoformat(request["expected_datetime"])
        requested = datetime.fromisoformat(request["requested_datetime"])
        assert timedelta(days=6) < expected - requested <= timedelta(days=8)  # normal: resolve in 7 days
        assert request["status_notes"] == "已派至东区住建委办理"
        await resolve_by_department(stack, request_id)

        async def closed() -> dict[str, Any] | None:
            [request] = (await client.get(f"{BASE}/requests/{request_id}.json")).json()
            return request if request["status"] == "closed" else None

        assert "已办结" in (await eventually(closed))["status_notes"]


class KeyedRequests:
    """`requests` as georeport calls it, sending the api_key a keyed deployment needs on every read
    (the client itself sends a key only when it files)."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def get(self, url: str, params: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return requests.get(url, params={**(params or {}), "api_key": self.api_key}, timeout=10, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return requests.post(url, timeout=10, **kwargs)


async def test_a_pypi_open311_client_reads_back_what_was_filed(stack, api_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake") as client:
        filed = await client.post(
            f"{BASE}/requests.json", data=form(api_key, **{"attribute[volume]": "small"})
        )
        request_id = filed.json()[0]["service_request_id"]
    async with keyed(stack, api_key) as client:

        async def settled() -> bool:  # searches show a change once it is a few seconds old
            found = (
                await client.get(f"{BASE}/requests.json", params={"service_code": "garbage_piling"})
            ).json()
            return bool(found)

        await eventually(settled)
    root = stack.urls["intake"] + BASE
    with pytest.raises(requests.HTTPError):  # reads are keyed: as shipped, the client sends no key
        await asyncio.to_thread(GeoReport(root, jurisdiction="tiny").get_service_request, request_id)
    monkeypatch.setattr(georeport.georeport, "requests", KeyedRequests(api_key))

    def read_with_georeport(output: str) -> tuple[Any, ...]:
        geo = GeoReport(root, jurisdiction="tiny", output_format=output)
        return (
            geo.get_service_list(),
            geo.get_service_definition("garbage_piling"),
            geo.get_service_requests(service_request_id=request_id),
            geo.get_service_request(request_id),
            geo.get_service_requests(service_code="garbage_piling", status="open"),
        )

    for output in ("json", "xml"):
        services, definition, listed, single, by_code = await asyncio.to_thread(read_with_georeport, output)
        assert "garbage_piling" in [s["service_code"] for s in services]
        assert definition["service_code"] == "garbage_piling"
        single = single[0] if isinstance(single, list) else single
        assert single["service_request_id"] == request_id
        assert single["description"] == "小区门口垃圾堆积 🗑️ 三天没人清"
        assert single["status"] == "open"
        listed = listed if isinstance(listed, list) else [listed]
        assert [r["service_request_id"] for r in listed] == [request_id]
        by_code = by_code if isinstance(by_code, list) else [by_code]
        # Oldest change first over the last 90 days: filed before now, in the category asked.
        assert by_code and all(r["service_code"] == "garbage_piling" for r in by_code)
