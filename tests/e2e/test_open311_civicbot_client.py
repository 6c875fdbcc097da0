"""A third-party Open311 client from PyPI (civicbot's GeoReport v2 client) files, reads back and
searches, as a deployment whose request reads are keyed runs it: the client's transport (its one
extension point: every call goes through it) adds the api_key to each read."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import CONFIRM_TOKEN, Open311Client
from civicbot.registry import Endpoint

from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e


class KeyedTransport(HttpTransport):
    """civicbot's transport, sending the api_key on reads too (it sends one only when filing)."""

    def __init__(self, api_key: str | None) -> None:
        super().__init__(rate_limiter=RateLimiter(min_interval=0))
        self.api_key = api_key

    def get_bytes(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> bytes:
        keyed = {**(params or {}), "api_key": self.api_key} if self.api_key else params
        return super().get_bytes(url, keyed, headers)


def civicbot(stack, api_key: str | None) -> Open311Client:  # type: ignore[no-untyped-def]
    endpoint = Endpoint(
        id="whistle", name="Whistle", base_url=f"{stack.urls['intake']}/open311/v2", write=True
    )
    return Open311Client(endpoint, transport=KeyedTransport(api_key), jurisdiction_id="tiny")


async def test_a_pypi_open311_client_files_a_request_and_reads_it_back(stack) -> None:  # type: ignore[no-untyped-def]
    api_key = stack.api_key("hotline")
    client = civicbot(stack, api_key)

    services = await asyncio.to_thread(client.list_services)
    assert "water_supply" in {s["service_code"] for s in services}

    sent = await asyncio.to_thread(
        client.create_request,
        "water_supply",
        dry_run=False,
        confirm=CONFIRM_TOKEN,
        api_key=api_key,
        validate_remote=True,
        lat=39.905,
        lng=116.405,
        description="整栋楼停水 🚱",
        first_name="三",
        last_name="张",
        phone="13800138000",
        email="zhang@example.org",
    )
    created = sent.response[0]
    request_id = created["service_request_id"]
    assert request_id

    request = await asyncio.to_thread(client.get_request, request_id)
    assert request is not None
    assert (request["service_code"], request["status"], request["description"]) == (
        "water_supply",
        "open",
        "整栋楼停水 🚱",
    )
    assert (request["lat"], request["long"]) == (39.905, 116.405)
    assert "13800138000" not in str(request) and "张" not in str(request)  # no resident data read back

    async def agency_named() -> dict | None:  # type: ignore[type-arg]
        again = await asyncio.to_thread(client.get_request, request_id)
        return again if again and again.get("agency_responsible") else None

    assert (await eventually(agency_named))["agency_responsible"]
    if created.get("token"):
        token = await asyncio.to_thread(client.get_token, created["token"])
        assert token[0]["service_request_id"] == request_id

    with pytest.raises(HttpError) as refused:  # the same client without a key may not read
        await asyncio.to_thread(civicbot(stack, None).get_request, request_id)
    assert refused.value.status == 403


async def test_the_client_finds_a_request_placed_by_community_with_a_position(stack) -> None:  # type: ignore[no-untyped-def]
    api_key = stack.api_key("hotline")
    client = civicbot(stack, api_key)
    before = datetime.now().astimezone() - timedelta(seconds=1)
    sent = await asyncio.to_thread(
        client.create_request,
        "heating",
        dry_run=False,
        confirm=CONFIRM_TOKEN,
        api_key=api_key,
        address_id="s1-01",
        description="暖气不热",
    )
    request_id = sent.response[0]["service_request_id"]

    async def listed() -> list[dict[str, Any]]:
        found = await asyncio.to_thread(
            client.list_requests,
            service_code="heating",
            start_date=before.isoformat(),
            end_date=(before + timedelta(hours=1)).isoformat(),
        )
        return [r for r in found if r["service_request_id"] == request_id]

    [request] = await eventually(listed)  # once settled (a few seconds), in the window it changed in
    assert request["address_id"] == "s1-01"
    assert 39.90 < request["lat"] < 39.91 and 116.40 < request["long"] < 116.41  # inside 一社区
