"""OAuth2 client credentials, the public key set, key rotation and Open311 api keys."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from services.registry import signing_keys
from shared.access import Principal
from shared.auth import require
from shared.errors import BadRequest, Unauthorized
from shared.rate_limit import FailureLimiter
from shared.service_app import SessionDep

router = APIRouter(tags=["auth"])


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError as exc:
        raise Unauthorized("malformed basic credentials") from exc
    return client_id, secret


def _ttl(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.runtime.settings.token_ttl_seconds)


@router.post("/oauth/token")
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Client credentials (RFC 6749 §4.4), in the form body or as HTTP Basic."""
    if grant_type != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    credentials = _basic_credentials(request) or (client_id, client_secret)
    if not credentials[0] or not credentials[1]:
        return JSONResponse(
            {"error": "invalid_client", "error_description": "client credentials required"},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="whistle"'},
        )
    failures: FailureLimiter = request.app.state.token_failures
    wait = failures.wait(credentials[0])
    if wait > 0:
        return JSONResponse(
            {"error": "invalid_client", "error_description": "too many failed attempts: wait, then retry"},
            status_code=429,
            headers={"Retry-After": str(round(wait + 0.5))},
        )
    try:
        client = await signing_keys.authenticate(session, credentials[0], credentials[1])
    except Unauthorized as exc:
        failures.failed(credentials[0])
        return JSONResponse(
            {"error": "invalid_client", "error_description": exc.detail},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="whistle"'},
        )
    body = await signing_keys.issue_token(session, client, ttl=_ttl(request), scope=scope)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/.well-known/jwks.json")
async def jwks(session: SessionDep) -> JSONResponse:
    return JSONResponse(await signing_keys.jwks(session), headers={"Cache-Control": "max-age=60"})


@router.post("/v1/keys/rotate", status_code=201)
async def rotate_keys(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("registry:write")]
) -> dict[str, Any]:
    key = await signing_keys.rotate(session, token_ttl=_ttl(request))
    return {"kid": key.kid, "created_at": key.created_at}


@router.post("/v1/clients/{client_id}/api-keys", status_code=201)
async def create_api_key(
    client_id: str, session: SessionDep, principal: Annotated[Principal, require("registry:write")]
) -> dict[str, str]:
    key_id, key = await signing_keys.issue_api_key(session, client_id)
    return {"key_id": key_id, "api_key": key, "client_id": client_id}


@router.post("/v1/clients/{client_id}/disable")
async def disable_client(
    client_id: str, session: SessionDep, principal: Annotated[Principal, require("registry:write")]
) -> dict[str, Any]:
    """The client gets no more tokens; its api keys stop working (its access tokens expire soon)."""
    client = await signing_keys.set_disabled(session, client_id, disabled=True)
    return {"client_id": client.client_id, "disabled_at": client.disabled_at}


@router.post("/v1/clients/{client_id}/enable")
async def enable_client(
    client_id: str, session: SessionDep, principal: Annotated[Principal, require("registry:write")]
) -> dict[str, Any]:
    client = await signing_keys.set_disabled(session, client_id, disabled=False)
    return {"client_id": client.client_id, "disabled_at": None}


@router.post("/v1/clients/{client_id}/rotate-secret")
async def rotate_client_secret(
    client_id: str, session: SessionDep, principal: Annotated[Principal, require("registry:write")]
) -> JSONResponse:
    """A new secret, shown this once; the old secret stops working now."""
    secret = await signing_keys.rotate_secret(session, client_id)
    return JSONResponse(
        {"client_id": client_id, "client_secret": secret}, headers={"Cache-Control": "no-store"}
    )


@router.delete("/v1/clients/{client_id}/api-keys/{key_id}", status_code=204)
async def revoke_api_key(
    client_id: str,
    key_id: str,
    session: SessionDep,
    principal: Annotated[Principal, require("registry:write")],
) -> None:
    if not key_id:
        raise BadRequest("key id required")
    await signing_keys.revoke_api_key(session, client_id, key_id)
