"""API client secrets: stored as `scrypt$<salt hex>$<digest hex>`, never in clear."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Sequence

_N, _R, _P = 2**14, 8, 1


def _digest(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P)


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    return f"scrypt${salt.hex()}${_digest(secret, salt).hex()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        return hmac.compare_digest(_digest(secret, bytes.fromhex(salt)).hex(), digest)
    except ValueError:
        return False


async def hash_secrets(secrets: Sequence[str]) -> list[str]:
    """Hash many secrets on worker threads (scrypt releases the GIL; ~50 ms each)."""
    workers = max(1, min(len(secrets), os.cpu_count() or 1))
    semaphore = asyncio.Semaphore(workers)

    async def one(secret: str) -> str:
        async with semaphore:
            return await asyncio.to_thread(hash_secret, secret)

    return list(await asyncio.gather(*(one(s) for s in secrets)))
