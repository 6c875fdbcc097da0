"""Clients and keys under an operator's control: api keys outlive key rotations, a client can be
disabled and its secret rotated without a reseed, failed token requests are limited, and admin
writes and refused attempts are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from services.registry.models import SigningKey
from shared.auth import API_KEY, TokenVerifier
from shared.events import utcnow
from shared.rate_limit import FailureLimiter
from tests.integration.registry.conftest import Registry

pytestmark = pytest.mark.integration


async def token_status(registry: Registry, client_id: str, secret: str) -> int:
    response = await registry.anonymous.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return response.status_code


async def test_an_api_key_keeps_working_after_the_key_that_signed_it_retired(
    registry: Registry, sessions
) -> None:  # type: ignore[no-untyped-def]
    made = (await registry.admin.post("/v1/clients/hotline/api-keys")).json()
    rotated = await registry.admin.post("/v1/keys/rotate")
    assert rotated.status_code == 201
    async with sessions() as session, session.begin():  # the old key's tokens have all expired
        await session.execute(
            update(SigningKey)
            .where(SigningKey.kid != rotated.json()["kid"])
            .values(retired_at=utcnow() - timedelta(hours=1))
        )

    async def keys() -> dict:  # type: ignore[type-arg]
        return (await registry.anonymous.get("/.well-known/jwks.json")).json()

    verifier = TokenVerifier(keys)
    principal = await verifier.verify(made["api_key"], kind=API_KEY)
    assert principal.client_id == "hotline"
    revoked = await registry.admin.delete(f"/v1/clients/hotline/api-keys/{made['key_id']}")
    assert revoked.status_code == 204
    assert made["key_id"] in (await keys())["revoked_api_keys"]


async def test_a_disabled_client_gets_no_token_and_its_api_keys_are_revoked(registry: Registry) -> None:
    made = (await registry.admin.post("/v1/clients/hotline/api-keys")).json()
    assert (await registry.admin.post("/v1/clients/hotline/disable")).status_code == 200
    assert await token_status(registry, "hotline", "demo-hotline-secret") == 401
    jwks = (await registry.anonymous.get("/.well-known/jwks.json")).json()
    assert made["key_id"] in jwks["revoked_api_keys"]
    assert (await registry.admin.post("/v1/clients/hotline/enable")).status_code == 200
    assert await token_status(registry, "hotline", "demo-hotline-secret") == 200


async def test_a_rotated_secret_replaces_the_old_one_at_once(registry: Registry) -> None:
    rotated = await registry.admin.post("/v1/clients/viewer/rotate-secret")
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    secret = rotated.json()["client_secret"]
    assert await token_status(registry, "viewer", "demo-viewer-secret") == 401
    assert await token_status(registry, "viewer", secret) == 200


async def test_ten_failed_token_requests_a_minute_per_client_id_then_429(registry: Registry) -> None:
    registry.app.state.token_failures = FailureLimiter()  # nothing from earlier tests counts
    for client_id in ("hotline", "nobody-knows-me"):  # a known id and an unknown one alike
        for _ in range(10):
            assert await token_status(registry, client_id, "wrong") == 401
        response = await registry.anonymous.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"},
        )
        assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert await token_status(registry, "admin", "demo-admin-secret") == 200  # other clients are not held up
    registry.app.state.token_failures = FailureLimiter()


async def test_admin_writes_and_refused_attempts_are_in_the_audit_log(registry: Registry) -> None:
    written = await registry.admin.post("/v1/clients/hotline/api-keys")
    assert written.status_code == 201
    refused = await registry.viewer.post("/v1/keys/rotate")
    assert refused.status_code == 403
    read = await registry.admin.get("/v1/audit", params={"limit": 50})
    assert read.status_code == 200, read.text
    log = read.json()["items"]
    assert any(
        e["client_id"] == "admin"
        and e["action"] == "POST /v1/clients/{client_id}/api-keys"
        and e["outcome"] == "done"
        for e in log
    )
    assert any(
        e["client_id"] == "viewer" and e["action"] == "POST /v1/keys/rotate" and e["outcome"] == "refused"
        for e in log
    )
    assert (await registry.viewer.get("/v1/audit")).status_code == 403
