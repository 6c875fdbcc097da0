"""Who is calling: OAuth2 client-credentials JWTs issued by the registry, verified offline, and the
FastAPI dependency that demands scopes.

Every `/v1` endpoint declares what it needs:

    async def endpoint(principal: Annotated[Principal, require("complaints:write")]) -> ...

What a principal may then read or act on is decided in `shared.access` (the scopes are listed
there too). Tokens are EdDSA (Ed25519) JWTs; services verify them with the registry's public keys
from `/.well-known/jwks.json`, fetched once and again when a token names a key id not yet seen (key
rotation without downtime). Open311 `api_key`s are long-lived signed keys of hotline clients,
verified the same way; revoked key ids are published beside the keys.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
from fastapi import Depends, Request
from jwt.algorithms import OKPAlgorithm

from shared.access import ALL_SCOPES, Principal
from shared.errors import Forbidden, TooManyRequests, Unauthorized
from shared.rate_limit import Limiter

ISSUER = "whistle-registry"
AUDIENCE = "whistle"
ACCESS, API_KEY = "access", "api_key"


JwksSource = Callable[[], Awaitable[dict[str, Any]]]


def http_jwks_source(registry_url: str) -> JwksSource:
    url = f"{registry_url.rstrip('/')}/.well-known/jwks.json"

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.json()

    return fetch


class TokenVerifier:
    """Verifies tokens and api keys offline against the registry's published keys."""

    REFRESH_SECONDS = 60.0  # re-read the key set at most this often (new keys, revoked api keys)
    UNKNOWN_KID_COOLDOWN = 2.0  # an unknown key id refetches, but not in a storm

    def __init__(self, source: JwksSource) -> None:
        self.source = source
        self._keys: dict[str, Any] = {}
        self._revoked: frozenset[str] = frozenset()
        self._fetched_at = -self.REFRESH_SECONDS
        self._forced_at = -self.UNKNOWN_KID_COOLDOWN
        self._lock = asyncio.Lock()
        # Verified tokens, so a worker's repeated calls skip the signature check until expiry.
        self._verified: dict[tuple[str, str], tuple[Principal, float, str | None]] = {}

    async def _refresh(self, *, force: bool = False) -> None:
        async with self._lock:
            now = time.monotonic()
            if force:
                if now - self._forced_at < self.UNKNOWN_KID_COOLDOWN:
                    return
                self._forced_at = now
            elif now - self._fetched_at < self.REFRESH_SECONDS:
                return
            document = await self.source()
            self._keys = {k["kid"]: OKPAlgorithm.from_jwk(k) for k in document.get("keys", [])}
            self._revoked = frozenset(document.get("revoked_api_keys", []))
            self._fetched_at = time.monotonic()

    async def _key_for(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        try:
            await self._refresh()
            if kid not in self._keys:
                await self._refresh(force=True)
        except httpx.HTTPError as exc:
            if not self._keys:
                raise Unauthorized("cannot verify tokens yet: the registry's keys are unavailable") from exc
        if kid not in self._keys:
            raise Unauthorized("token signed by an unknown key")
        return self._keys[kid]

    CACHE_SIZE = 10_000

    async def verify(self, token: str, *, kind: str = ACCESS) -> Principal:
        cached = self._verified.get((kind, token))
        if cached is not None:
            principal, expires, jti = cached
            if time.time() < expires and jti not in self._revoked:
                return principal
            del self._verified[(kind, token)]
        principal, expires, jti = await self._verify_signature(token, kind)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[(kind, token)] = (principal, expires, jti)
        return principal

    async def _verify_signature(self, token: str, kind: str) -> tuple[Principal, float, str | None]:
        key = await self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"] if kind == ACCESS else ["iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        if claims.get("typ") != kind:
            raise Unauthorized(f"not an {kind.replace('_', ' ')}")
        jti = claims.get("jti") if kind == API_KEY else None
        if jti in self._revoked:
            raise Unauthorized("api key revoked")
        principal = Principal(
            client_id=claims["sub"],
            kind=claims.get("kind", ""),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            department=claims.get("department"),
            street=claims.get("street"),
            district=claims.get("district"),
            community=claims.get("community"),
        )
        # Api keys do not expire; they are re-checked against the revoked list on every use.
        return principal, float(claims.get("exp", time.time() + self.REFRESH_SECONDS)), jti


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "a bearer token is required (POST /oauth/token at the registry)",
            headers={"WWW-Authenticate": 'Bearer realm="whistle"'},
        )
    return token.strip()


def require(*scopes: str) -> Any:
    """A dependency that authenticates the caller and checks it holds every scope named."""
    unknown = set(scopes) - ALL_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}")

    async def dependency(request: Request) -> Principal:
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(_bearer(request))
        request.state.principal = principal
        missing = [s for s in scopes if s not in principal.scopes]
        if missing:
            raise Forbidden(f"this client lacks the scope(s): {', '.join(missing)}")
        if request.method in WRITES:
            limit_writes(request, principal.client_id, principal.kind)
        return principal

    return Depends(dependency)


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def limit_writes(request: Request, key: str, kind: str) -> None:
    """Refuse a write over the client's rate (`shared.rate_limit`) with 429 and Retry-After."""
    limiter: Limiter | None = getattr(request.app.state, "limiter", None)
    if limiter is None:
        return
    wait = limiter.take(key, kind)
    if wait > 0:
        raise TooManyRequests(f"too many writes from {key}: slow down", retry_after=wait)


async def principal_from_api_key(request: Request, api_key: str | None) -> Principal:
    """The hotline client an Open311 `api_key` belongs to; Forbidden when missing or not valid."""
    if not api_key:
        raise Forbidden("api_key is required")
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(api_key, kind=API_KEY)
    except Unauthorized as exc:
        raise Forbidden(f"api_key not valid: {exc.detail}") from exc
    if principal.kind != "hotline":
        raise Forbidden("api_key does not belong to a hotline client")
    request.state.principal = principal
    if request.method in WRITES:
        limit_writes(request, f"api_key:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}", principal.kind)
    return principal


class ClientCredentials:
    """A service's own access token from the registry, renewed shortly before it expires."""

    def __init__(self, registry_url: str, client_id: str, client_secret: str) -> None:
        self.url = f"{registry_url.rstrip('/')}/oauth/token"
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.post(
                        self.url,
                        data={
                            "grant_type": "client_credentials",
                            "client_id": self.client_id,
                            "client_secret": self.client_secret,
                        },
                    )
                    response.raise_for_status()
                body = response.json()
                self._token = str(body["access_token"])
                self._renew_at = time.monotonic() + max(10.0, float(body["expires_in"]) * 0.8)
            return self._token
