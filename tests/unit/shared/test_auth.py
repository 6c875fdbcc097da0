"""Token verification against a key set, as services do it offline."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shared.access import scopes_for
from shared.auth import ACCESS, API_KEY, AUDIENCE, ISSUER, TokenVerifier
from shared.errors import Unauthorized


class KeySet:
    """A registry's published keys, with a count of how often verifiers fetched them."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.revoked: list[str] = []
        self.fetches = 0

    def add(self, kid: str) -> None:
        self.keys[kid] = Ed25519PrivateKey.generate()

    async def source(self) -> dict[str, Any]:
        self.fetches += 1
        keys = []
        for kid, private in self.keys.items():
            jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
            keys.append(jwk | {"kid": kid})
        return {"keys": keys, "revoked_api_keys": list(self.revoked)}

    def sign(self, kid: str, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "dept-zjw",
            "kind": "department",
            "scope": "queue:read queue:write",
            "department": "zjw",
            "iat": now,
            "exp": now + 600,
            "typ": ACCESS,
            "jti": "j1",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[kid], algorithm="EdDSA", headers={"kid": kid})  # type: ignore[arg-type]


@pytest.fixture
def keyset() -> KeySet:
    keys = KeySet()
    keys.add("k1")
    return keys


async def test_valid_token_gives_a_bound_principal(keyset: KeySet) -> None:
    principal = await TokenVerifier(keyset.source).verify(keyset.sign("k1"))
    assert principal.client_id == "dept-zjw"
    assert principal.scopes == {"queue:read", "queue:write"}
    assert principal.may_act_for_department("zjw") and not principal.may_act_for_department("cgw")


async def test_expired_token_is_refused(keyset: KeySet) -> None:
    with pytest.raises(Unauthorized, match="expired"):
        await TokenVerifier(keyset.source).verify(keyset.sign("k1", exp=int(time.time()) - 5))


async def test_token_for_another_audience_is_refused(keyset: KeySet) -> None:
    with pytest.raises(Unauthorized):
        await TokenVerifier(keyset.source).verify(keyset.sign("k1", aud="someone-else"))


async def test_token_signed_with_a_foreign_key_is_refused(keyset: KeySet) -> None:
    forged = KeySet()
    forged.add("k1")  # same key id, different key
    with pytest.raises(Unauthorized, match="invalid"):
        await TokenVerifier(keyset.source).verify(forged.sign("k1"))


async def test_rotated_key_is_fetched_when_first_seen(keyset: KeySet) -> None:
    verifier = TokenVerifier(keyset.source)
    await verifier.verify(keyset.sign("k1"))
    keyset.add("k2")
    principal = await verifier.verify(keyset.sign("k2"))
    assert principal.client_id == "dept-zjw"
    assert keyset.fetches == 2
    await verifier.verify(keyset.sign("k1"))  # the old key still verifies its tokens
    assert keyset.fetches == 2


async def test_api_key_and_access_token_are_not_interchangeable(keyset: KeySet) -> None:
    verifier = TokenVerifier(keyset.source)
    api_key = keyset.sign("k1", typ=API_KEY, exp=None, jti="key-1")
    with pytest.raises(Unauthorized):
        await verifier.verify(api_key)
    assert (await verifier.verify(api_key, kind=API_KEY)).client_id == "dept-zjw"
    with pytest.raises(Unauthorized):
        await verifier.verify(keyset.sign("k1"), kind=API_KEY)


async def test_revoked_api_key_is_refused(keyset: KeySet) -> None:
    keyset.revoked.append("key-1")
    with pytest.raises(Unauthorized, match="revoked"):
        await TokenVerifier(keyset.source).verify(
            keyset.sign("k1", typ=API_KEY, exp=None, jti="key-1"), kind=API_KEY
        )


def test_a_client_may_narrow_its_scopes_but_never_widen_them() -> None:
    assert scopes_for("hotline", "complaints:write registry:write") == {"complaints:write"}
    assert "registry:write" not in scopes_for("department")
    assert scopes_for("nobody") == frozenset()


async def test_verified_token_is_not_checked_again_until_it_expires(keyset: KeySet) -> None:
    verifier = TokenVerifier(keyset.source)
    token = keyset.sign("k1", exp=int(time.time()) + 2)
    first = await verifier.verify(token)
    keyset.keys.clear()  # the signature could no longer be checked…
    assert await verifier.verify(token) == first  # …but the verified token is remembered
    await asyncio.sleep(2.1)
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


async def test_revocation_reaches_a_remembered_api_key(keyset: KeySet) -> None:
    verifier = TokenVerifier(keyset.source)
    verifier.REFRESH_SECONDS = 0.2
    api_key = keyset.sign("k1", typ=API_KEY, exp=None, jti="key-2")
    await verifier.verify(api_key, kind=API_KEY)
    keyset.revoked.append("key-2")
    await asyncio.sleep(0.3)
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(api_key, kind=API_KEY)
