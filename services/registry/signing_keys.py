"""Signing keys, access tokens and Open311 api keys.

The newest unretired key signs. Rotating adds a key and schedules the previous ones to retire once
every token they signed has expired, so verifiers (which refetch the key set when they meet a new
key id) never see a valid token they cannot check. A retired key that signed an api key still in use
stays published for as long as that api key lives: api keys outlive rotations. A disabled client
gets no token, and its api keys are published as revoked.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.client_secrets import check_secret, hash_secret
from services.registry.models import ApiClient, ApiKey, SigningKey
from shared.access import scopes_for
from shared.auth import ACCESS, API_KEY, AUDIENCE, ISSUER
from shared.errors import NotFound, Unauthorized
from shared.events import utcnow


def _new_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex[:16]
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid=kid, private_pem=pem, public_jwk=jwk)


async def _published(session: AsyncSession) -> list[SigningKey]:
    now = utcnow()
    live_api_keys = select(ApiKey.signing_kid).where(ApiKey.revoked_at.is_(None))
    query = (
        select(SigningKey)
        .where(
            or_(
                SigningKey.retired_at.is_(None),
                SigningKey.retired_at > now,
                SigningKey.kid.in_(live_api_keys),
                # api keys made before their signer was recorded: keep every key they may need
                select(ApiKey.key_id)
                .where(ApiKey.revoked_at.is_(None), ApiKey.signing_kid.is_(None))
                .exists(),
            )
        )
        .order_by(SigningKey.created_at)
    )
    return list((await session.execute(query)).scalars())


async def signing_key(session: AsyncSession) -> SigningKey:
    """The key that signs now; one is made on first use."""
    query = select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc())
    key = (await session.execute(query.limit(1))).scalars().first()
    if key is None:
        # Two first requests at once must not both make a key.
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('registry.signing_keys'))"))
        key = (await session.execute(query.limit(1))).scalars().first()
    if key is None:
        key = _new_key()
        session.add(key)
        await session.flush()
    return key


async def rotate(session: AsyncSession, *, token_ttl: timedelta) -> SigningKey:
    """Add a key that signs from now on; the old ones stay published until their tokens expire."""
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=utcnow() + token_ttl)
    )
    key = _new_key()
    session.add(key)
    await session.flush()
    return key


async def jwks(session: AsyncSession) -> dict[str, Any]:
    await signing_key(session)
    disabled = select(ApiClient.client_id).where(ApiClient.disabled_at.is_not(None))
    revoked = await session.execute(
        select(ApiKey.key_id).where(or_(ApiKey.revoked_at.is_not(None), ApiKey.client_id.in_(disabled)))
    )
    return {
        "keys": [k.public_jwk for k in await _published(session)],
        "revoked_api_keys": sorted(revoked.scalars()),
    }


def _sign(key: SigningKey, claims: dict[str, Any]) -> str:
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.kid})  # type: ignore[arg-type]


def _claims(client: ApiClient, scopes: frozenset[str], now: datetime) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": client.client_id,
        "kind": client.kind,
        "scope": " ".join(sorted(scopes)),
        "iat": int(now.timestamp()),
    }
    if client.department:
        claims["department"] = client.department
    if client.street:
        claims["street"] = client.street
    if client.district:
        claims["district"] = client.district
    if client.community:
        claims["community"] = client.community
    return claims


# Checked against when the client id is unknown, so that costs what a wrong secret costs.
_NO_CLIENT = hash_secret(secrets.token_hex(16))


async def authenticate(session: AsyncSession, client_id: str, secret: str) -> ApiClient:
    """The client whose secret this is; scrypt runs on a worker thread, never on the event loop."""
    client = await session.get(ApiClient, client_id)
    stored = client.secret_hash if client is not None else _NO_CLIENT
    matches = await asyncio.to_thread(check_secret, secret, stored)
    if client is None or not matches:
        raise Unauthorized("unknown client or wrong secret")
    if client.disabled_at is not None:
        raise Unauthorized("this client is disabled")
    return client


async def set_disabled(session: AsyncSession, client_id: str, *, disabled: bool) -> ApiClient:
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    client.disabled_at = (client.disabled_at or utcnow()) if disabled else None
    return client


async def rotate_secret(session: AsyncSession, client_id: str) -> str:
    """A new secret for the client (returned once, stored hashed); the old one stops working."""
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    secret = secrets.token_urlsafe(24)
    client.secret_hash = await asyncio.to_thread(hash_secret, secret)
    return secret


async def issue_token(
    session: AsyncSession, client: ApiClient, *, ttl: timedelta, scope: str | None = None
) -> dict[str, Any]:
    now = utcnow()
    scopes = scopes_for(client.kind, scope)
    claims = _claims(client, scopes, now) | {
        "typ": ACCESS,
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    token = _sign(await signing_key(session), claims)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(ttl.total_seconds()),
        "scope": claims["scope"],
    }


async def issue_api_key(session: AsyncSession, client_id: str) -> tuple[str, str]:
    """A new Open311 api_key for a client; returns (key id, key)."""
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    key_id = uuid.uuid4().hex
    signer = await signing_key(session)
    session.add(ApiKey(key_id=key_id, client_id=client_id, signing_kid=signer.kid))
    claims = _claims(client, scopes_for(client.kind), utcnow()) | {"typ": API_KEY, "jti": key_id}
    return key_id, _sign(signer, claims)


async def revoke_api_key(session: AsyncSession, client_id: str, key_id: str) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None or key.client_id != client_id:
        raise NotFound(f"no api key {key_id} for {client_id}")
    key.revoked_at = key.revoked_at or utcnow()
