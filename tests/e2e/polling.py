"""Waiting for what the system does asynchronously, without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(probe: Callable[[], Awaitable[Any]], *, seconds: float = 30) -> Any:
    """Poll until the probe returns something truthy, and return it; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s (last: {result!r})")
        await asyncio.sleep(0.1)
