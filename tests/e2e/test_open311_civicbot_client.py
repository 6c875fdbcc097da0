"""A third-party Open311 client from PyPI (civicbot's GeoReport v2 client) files and reads back."""

from __future__ import annotations

import asyncio

import pytest
from civicbot.open311 import CONFIRM_TOKEN, Open311Client
from civicbot.registry import Endpoint

from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e


async def test_a_pypi_open311_client_files_a_request_and_reads_it_back(stack) -> None:  # type: ignore[no-untyped-def]
    api_key = stack.api_key("hotline")
    client = Open311Client(
        Endpoint(id="whistle", name="Whistle", base_url=f"{stack.urls['intake']}/open311/v2", write=True)
    )

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
    assert "13800138000" not in str(request) and "张" not in str(request)  # no resident data read back

    async def agency_named() -> dict | None:  # type: ignore[type-arg]
        again = await asyncio.to_thread(client.get_request, request_id)
        return again if again and again.get("agency_responsible") else None

    assert (await eventually(agency_named))["agency_responsible"]
    if created.get("token"):
        token = await asyncio.to_thread(client.get_token, created["token"])
        assert token[0]["service_request_id"] == request_id
