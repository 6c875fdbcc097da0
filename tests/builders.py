"""Builders every kind of test uses: shapes, complaint bodies, and reading what is on a topic."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from shared.city import Point


def square(lon: float, lat: float, size: float = 0.01) -> list[Point]:
    """A closed square ring; coordinates rounded so neighbouring squares share exact edges."""
    east, north = round(lon + size, 6), round(lat + size, 6)
    return [(lon, lat), (east, lat), (east, north), (lon, north), (lon, lat)]


def create_complaint(**overrides: Any) -> dict[str, Any]:
    """A `/v1/complaints` body for the tiny test city (keyword overrides replace fields)."""
    body: dict[str, Any] = {
        "source": "hotline",
        "source_ref": f"12345-{uuid.uuid4().hex[:12]}",
        "category": "illegal_construction",
        "description": "楼顶私搭乱建 🏗️",
        "location": {"lat": 39.905, "lon": 116.405},
        "reporter": {"name": "张三", "phone": "13800138000"},
    }
    return body | overrides


async def read_topics(
    bootstrap: str, *topics: str, expect: int | None = None, seconds: float = 15, quiet_polls: int = 2
) -> list[ConsumerRecord]:
    """Every record on the topics, from the beginning: until `expect` records are in (then one more
    poll, so an unexpected extra copy shows), or until `quiet_polls` polls in a row bring nothing
    after the first records, or `seconds` pass."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        quiet = 0
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            records = [r for rs in batch.values() for r in rs]
            found += records
            quiet = 0 if records else quiet + 1
            if expect is not None and len(found) >= expect:
                found += [r for rs in (await consumer.getmany(timeout_ms=500)).values() for r in rs]
                break
            if expect is None and found and quiet >= quiet_polls:
                break
    finally:
        await consumer.stop()
    return found
