"""Every service refuses an oversized body before reading it, and a made-up HTTP method never becomes
a metric label."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("service", ["registry", "dispatch", "sla"])
async def test_a_body_over_the_limit_is_refused_with_413_problem_json(stack, service: str) -> None:  # type: ignore[no-untyped-def]
    async with stack.client(service, as_client="admin") as client:
        response = await client.post(
            "/v1/anything", content=b"x" * (2 << 20), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_made_up_method_is_counted_as_other(stack) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=stack.urls["sla"], timeout=10) as client:
        # A method the HTTP parser accepts but no route serves (one it does not know never reaches the app).
        answered = await client.request("PROPFIND", "/healthz")
        metrics = (await client.get("/metrics")).text
    assert answered.status_code == 405
    assert "PROPFIND" not in metrics
    assert 'method="other"' in metrics
