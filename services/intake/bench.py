"""`whistle bench intake`: drive `POST /v1/complaints` at rising rates and print what was accepted.

Open loop: requests are due at a fixed rate whatever the server does, and each one's latency is
counted from when it was due, so a server that falls behind shows it (no coordinated omission).
The client speaks plain HTTP/1.1 over a pool of keep-alive connections, to spend as little of
the machine as it can on itself. Complaints are placed by community code across the whole city.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import orjson


@dataclass
class Step:
    rate: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def accepted(self) -> int:
        return self.statuses.get(201, 0) + self.statuses.get(200, 0)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        others = {s: n for s, n in self.statuses.items() if s not in (200, 201)}
        rate = self.accepted / self.elapsed if self.elapsed else 0.0
        return (
            f"{self.rate:>7} {rate:>10.0f} {self.percentile(50):>8.1f} {self.percentile(99):>8.1f}"
            f" {max(self.latencies, default=0) * 1000:>8.1f} {self.errors:>6} {others or ''}"
        )


class Load:
    """The hotline at a fixed rate. `on_accepted(complaint_id, due)` hears of every 201."""

    def __init__(
        self,
        url: str,
        token: str,
        communities: list[str],
        categories: list[str],
        *,
        on_accepted: Callable[[str, float], None] | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self.communities = communities
        self.categories = categories
        self.run_id = uuid.uuid4().hex[:8]
        self.count = 0
        self.on_accepted = on_accepted

    def request(self) -> bytes:
        self.count += 1
        body = orjson.dumps(
            {
                "source": "bench",
                "source_ref": f"{self.run_id}-{self.count}",
                "category": random.choice(self.categories),
                "description": "压力测试：路灯不亮，夜间出行不便 💡",
                "location": {"community_code": random.choice(self.communities)},
                "reporter": {"name": "测试", "phone": "13800000000"},
            }
        )
        head = (
            f"POST /v1/complaints HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        return head + body

    async def step(self, rate: int, seconds: float, connections: int) -> Step:
        step = Step(rate, seconds)
        queue: asyncio.Queue[float | None] = asyncio.Queue()
        workers = [asyncio.create_task(self._worker(queue, step)) for _ in range(connections)]
        started = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(due)
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
        step.elapsed = time.perf_counter() - started
        return step

    async def _worker(self, queue: asyncio.Queue[float | None], step: Step) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            while (due := await queue.get()) is not None:
                request = self.request()
                try:
                    writer.write(request)
                    status, body = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    # The server may close a keep-alive connection left idle: reconnect, send again.
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    try:
                        writer.write(request)
                        status, body = await _read_response(reader)
                    except (OSError, asyncio.IncompleteReadError, ValueError):
                        step.errors += 1
                        continue
                step.latencies.append(time.perf_counter() - due)
                step.statuses[status] = step.statuses.get(status, 0) + 1
                if status == 201 and self.on_accepted is not None:
                    self.on_accepted(str(orjson.loads(body)["id"]), due)
        finally:
            writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def setup(args: argparse.Namespace) -> tuple[str, list[str], list[str]]:
    """A hotline token, the city's communities and the categories that need no attribute."""
    async with httpx.AsyncClient(timeout=10) as client:
        token = args.token
        if not token:
            response = await client.post(
                f"{args.registry_url}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": args.client_id,
                    "client_secret": args.client_secret,
                },
            )
            response.raise_for_status()
            token = response.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        page = await client.get(
            f"{args.registry_url}/v1/communities", params={"limit": 1000}, headers=headers
        )
        page.raise_for_status()
        communities = [c["code"] for c in page.json()["items"]]
        services = (await client.get(f"{args.url}/open311/v2/services.json")).json()
        categories = []
        for service in services:
            definition = (
                await client.get(f"{args.url}/open311/v2/services/{service['service_code']}.json")
            ).json()
            if not any(a["required"] for a in definition["attributes"]):
                categories.append(service["service_code"])
    return token, communities, categories


async def _run(args: argparse.Namespace) -> int:
    token, communities, categories = await setup(args)
    if not communities or not categories:
        print("the city has no communities or categories to file against", file=sys.stderr)
        return 1
    load = Load(args.url, token, communities, categories)
    print(f"intake at {args.url}: {len(categories)} categories, {len(communities)} communities")
    if args.warmup > 0:
        await load.step(min(args.rates), args.warmup, args.connections)
    print(f"{'target/s':>7} {'accepted/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6} other")
    best: Step | None = None
    for rate in args.rates:
        step = await load.step(rate, args.seconds, args.connections)
        print(step.line(), flush=True)
        if (
            step.percentile(99) < args.p99_ms
            and step.errors == 0
            and step.accepted >= 0.98 * rate * args.seconds
        ):
            best = step
        elif args.stop_on_failure:
            break
        await asyncio.sleep(args.pause)
    if best is None:
        print(f"no rate met p99 < {args.p99_ms:g} ms with every complaint accepted")
        return 2
    achieved = best.accepted / best.elapsed
    print(
        f"highest rate meeting p99 < {args.p99_ms:g} ms: {achieved:.0f} complaints/s "
        f"(p50 {best.percentile(50):.1f} ms, p99 {best.percentile(99):.1f} ms)"
    )
    return 0


def add_stack_options(parser: argparse.ArgumentParser, *, rates: str) -> None:
    """Where the stack answers, who files complaints and at what rates (shared by the benchmarks that
    drive intake)."""
    parser.add_argument(
        "--rates",
        default=rates,
        type=lambda text: [int(r) for r in text.split(",") if r],
        help="complaints per second, one step each (comma-separated)",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8002", help="intake's base URL")
    parser.add_argument("--registry-url", default="http://127.0.0.1:8001")
    parser.add_argument("--client-id", default="hotline")
    parser.add_argument("--client-secret", default="demo-hotline-secret")
    parser.add_argument("--token", default=None, help="use this access token instead of asking the registry")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="whistle bench intake", description=__doc__.split("\n")[0])
    add_stack_options(parser, rates="250,500,1000,1500,2000")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds at the first rate, not counted")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="the latency target")
    parser.add_argument(
        "--pause", type=float, default=2.0, help="seconds between steps (the pipeline drains)"
    )
    parser.add_argument("--stop-on-failure", action="store_true", help="stop at the first rate that misses")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
