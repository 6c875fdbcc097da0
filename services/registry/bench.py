"""`whistle bench registry`: how fast the registry answers "where is it" and "who answers it".

Prints figures; it asserts nothing. Three parts:

- in process (always): the synthetic city of `--scale` is generated; the snapshot is serialised
  (what the registry sends) and loaded (parsed, then indexed for routing and point lookup, what
  each consuming service does); then `--queries` resolve + route lookups are timed one by one
  (p50 / p99 / max; the target is p99 < 100 µs);
- `--embedded`: a throwaway PostgreSQL, broker and registry process are started here, the city is
  seeded (timed), the snapshot is built from the database (timed, cold), and `POST /v1/resolve` is
  driven over HTTP for `--seconds` with `--concurrency` requests in flight (requests per second
  and latency);
- `--url`: the same HTTP drive against a registry that is already running (seed it with the same
  scale first, or most points fall outside its city), with `--client-id` / `--client-secret`.

    whistle bench registry                       # in process only
    whistle bench registry --embedded            # everything, self-contained (about two minutes)
    whistle bench registry --url http://127.0.0.1:8001 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import shapely

from services.benchmarks.tallies import spread
from services.registry.city_generator import SCALES, generate_city
from shared.city import CityData, CitySnapshot
from shared.city_index import CityIndex
from shared.geo import Locator
from shared.routing import route

Point = tuple[float, float]


@dataclass
class Report:
    lines: list[tuple[str, str]]

    def add(self, name: str, value: str) -> None:
        self.lines.append((name, value))
        print(f"  {name:<46} {value}", flush=True)


@contextmanager
def timed(report: Report, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    report.add(name, f"{time.perf_counter() - started:.3f} s")


def sample_points(city: CityData, count: int, rng: random.Random) -> list[Point]:
    """Points inside random communities (each community's representative point, jittered inside)."""
    polygons = [shapely.Polygon(c.polygon) for d in city.districts for s in d.streets for c in s.communities]
    points: list[Point] = []
    while len(points) < count:
        polygon = rng.choice(polygons)
        lon0, lat0, lon1, lat1 = polygon.bounds
        lon, lat = rng.uniform(lon0, lon1), rng.uniform(lat0, lat1)
        if polygon.contains(shapely.Point(lon, lat)):
            points.append((lon, lat))
    return points


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

    return f"p50 {at(0.5):.1f} µs   p99 {at(0.99):.1f} µs   max {ordered[-1] / 1000:.1f} µs"


def in_process(city: CityData, args: argparse.Namespace, report: Report) -> list[Point]:
    snapshot = CitySnapshot(version=1, city=city)
    started = time.perf_counter()
    body = snapshot.model_dump_json().encode()
    report.add(
        "snapshot build (serialise)", f"{time.perf_counter() - started:.3f} s, {len(body) / 1e6:.1f} MB"
    )
    started = time.perf_counter()
    loaded = CitySnapshot.model_validate_json(body)
    parsed = time.perf_counter() - started
    index = CityIndex.build(loaded.city, loaded.version)
    locator = Locator(loaded.city)
    report.add(
        "snapshot load (parse + index + STRtree)",
        f"{time.perf_counter() - started:.3f} s ({parsed:.3f} s parse)",
    )

    points, resolve_ns, both_ns = lookups(loaded.city, index, locator, queries=args.queries, seed=args.seed)
    report.add(f"resolve ({args.queries:,} points)", percentiles(resolve_ns))
    report.add("resolve + route", percentiles(both_ns))
    return points


def lookups(
    city: CityData, index: CityIndex, locator: Locator, *, queries: int, seed: int
) -> tuple[list[Point], list[int], list[int]]:
    """Time `queries` resolve and resolve + route lookups one by one at random points of the city:
    the points, and the nanoseconds of each resolve and of each resolve + route."""
    rng = random.Random(seed)
    points = sample_points(city, min(queries, 20_000), rng)
    categories = [c.code for c in city.categories]
    work = [(points[i % len(points)], rng.choice(categories)) for i in range(queries)]
    for (lon, lat), category in work[:1000]:  # warm up
        place = locator.locate(lon, lat)
        assert place is not None
        route(index, category=category, street_code=place.street_code)
    resolve_ns: list[int] = []
    both_ns: list[int] = []
    clock = time.perf_counter_ns
    # The city's objects are long-lived: freeze them so collections during the run do not rescan
    # them (a full pass over them would be timed as one slow lookup).
    gc.collect()
    gc.freeze()
    try:
        timed_lookups(work, index, locator, resolve_ns, both_ns, clock)
    finally:
        gc.unfreeze()
    return points, resolve_ns, both_ns


def route_figures(scale: str, *, queries: int, seed: int = 0) -> dict[str, float | None]:
    """p50 / p99 / max in µs of resolve + route at the synthetic city of `scale`, in process."""
    city = generate_city(scale, seed)
    index = CityIndex.build(city, 1)
    _, _, both_ns = lookups(city, index, Locator(city), queries=queries, seed=seed)
    return spread(both_ns, scale=1 / 1000)


def timed_lookups(
    work: list[tuple[Point, str]],
    index: CityIndex,
    locator: Locator,
    resolve_ns: list[int],
    both_ns: list[int],
    clock: Callable[[], int],
) -> None:
    for (lon, lat), category in work:
        t0 = clock()
        place = locator.locate(lon, lat)
        t1 = clock()
        assert place is not None
        route(index, category=category, street_code=place.street_code)
        t2 = clock()
        resolve_ns.append(t1 - t0)
        both_ns.append(t2 - t0)


# --- against the database and over HTTP --------------------------------------------------------------


async def drive_http(
    url: str, token: str, points: list[Point], args: argparse.Namespace, report: Report
) -> None:
    """POST /v1/resolve over `concurrency` keep-alive connections for `seconds`.

    The requests are written by hand on raw connections: a general-purpose client costs more CPU
    per request than the registry does, and on a small machine it would measure itself.
    """
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    latencies: list[float] = []
    failures = 0
    deadline = 0.0
    counter = iter(range(10**12))

    async def worker(warm_up: int) -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while warm_up or time.perf_counter() < deadline:
                lon, lat = points[next(counter) % len(points)]
                body = orjson.dumps({"lat": lat, "lon": lon})
                started = time.perf_counter()
                writer.write(
                    b"POST /v1/resolve HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (host.encode(), token.encode(), len(body), body)
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                if warm_up:
                    warm_up -= 1
                    continue
                latencies.append(time.perf_counter() - started)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(warm_up=50) for _ in range(args.concurrency)))  # connections, caches
    latencies.clear()
    deadline = time.perf_counter() + args.seconds
    started = time.perf_counter()
    await asyncio.gather(*(worker(warm_up=0) for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    ms = sorted(latencies)
    report.add(
        f"/v1/resolve over HTTP ({args.concurrency} connections)",
        f"{len(ms) / elapsed:,.0f} req/s, p50 {statistics.median(ms) * 1000:.1f} ms, "
        f"p99 {ms[int(0.99 * len(ms))] * 1000:.1f} ms, {failures} not 200",
    )


def get_token(url: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def embedded(city_scale: str, points: list[Point], args: argparse.Namespace, report: Report) -> None:
    """Seed the city into a PostgreSQL of its own, build the snapshot from it, then serve it."""
    from services.registry.seeding import seed_generated
    from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, remove_tree
    from shared.events import ALL_TOPICS
    from shared.kafka import ensure_topics
    from shared.migrations import upgrade_all

    home = Path(tempfile.mkdtemp(prefix="whistle-bench-"))
    postgres = EmbeddedPostgres(
        home / "pg", port=free_port(), durable=False, log_to=(home / "pg.log").open("ab")
    )
    broker = EmbeddedBroker(port=free_port(), log_to=(home / "broker.log").open("ab"))
    registry: subprocess.Popen[bytes] | None = None
    try:
        postgres.start()
        broker.start()
        url = postgres.url()
        await ensure_topics(broker.bootstrap_servers, ALL_TOPICS, partitions=1)
        await upgrade_all(url, ("registry",))
        started = time.perf_counter()
        await seed_generated(url, city_scale, seed=args.seed)
        report.add(f"seed --scale {city_scale} into PostgreSQL", f"{time.perf_counter() - started:.3f} s")
        await _build_snapshot_cold(url, report)
        port = free_port()
        env = dict(
            os.environ,
            DATABASE_URL=url,
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
            TOPIC_PARTITIONS="1",
            REGISTRY_PORT=str(port),
            REGISTRY_LOG_LEVEL="WARNING",
        )
        registry = start_registry(env, home / "registry.log")
        await _serve(f"http://127.0.0.1:{port}", registry, points, args, report)
    finally:
        if registry is not None:
            _stop(registry)
        broker.stop()
        postgres.stop()
        remove_tree(home)


async def _build_snapshot_cold(url: str, report: Report) -> None:
    from services.registry import repository
    from services.registry.snapshots import build
    from shared.db import create_engine, sessionmaker
    from shared.events import utcnow

    engine = create_engine(url, pool_size=1)
    try:
        async with sessionmaker(engine)() as session:
            started = time.perf_counter()
            loaded = await repository.load_city(session)
            read = time.perf_counter() - started
            version = await repository.current_version(session)
            built = build(loaded, version, version_made=None, now=utcnow())
            report.add(
                "snapshot build from PostgreSQL (cold)",
                f"{time.perf_counter() - started:.3f} s ({read:.3f} s reading the tables)",
            )
            started = time.perf_counter()
            built.warm()
            report.add(
                "registry lookup structures (index, STRtree)", f"{time.perf_counter() - started:.3f} s"
            )
    finally:
        await engine.dispose()


async def _serve(
    base: str,
    registry: subprocess.Popen[bytes],
    points: list[Point],
    args: argparse.Namespace,
    report: Report,
) -> None:
    await wait_ready(base, registry)
    token = get_token(base, "viewer", "demo-viewer-secret")
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        first = await client.get(f"{base}/v1/snapshot")
    report.add(
        "GET /v1/snapshot, first (built in the registry)",
        f"{time.perf_counter() - started:.3f} s, {len(first.content) / 1e6:.1f} MB",
    )
    await drive_http(base, token, points, args, report)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def start_registry(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "registry"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def wait_ready(base: str, process: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the registry exited with code {process.returncode}")
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the registry was not ready within a minute")
            await asyncio.sleep(0.2)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="whistle bench registry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="beijing", help="the synthetic city")
    parser.add_argument("--seed", type=int, default=0, help="the generator's seed")
    parser.add_argument("--queries", type=int, default=100_000, help="in-process lookups to time")
    parser.add_argument(
        "--embedded", action="store_true", help="also seed a throwaway PostgreSQL and drive HTTP"
    )
    parser.add_argument("--url", help="drive this running registry over HTTP")
    parser.add_argument("--client-id", default="viewer", help="client for the token (with --url)")
    parser.add_argument("--client-secret", default="demo-viewer-secret", help="its secret (with --url)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to drive HTTP")
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP requests in flight")
    args = parser.parse_args(argv)
    if args.queries < 1 or args.seconds <= 0 or args.concurrency < 1:
        parser.error("--queries, --seconds and --concurrency must be positive")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    report = Report([])
    print(
        f"registry benchmark: --scale {args.scale}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}"
    )
    started = time.perf_counter()
    city = generate_city(args.scale, args.seed)
    streets = [s for d in city.districts for s in d.streets]
    report.add(
        "generate the city",
        f"{time.perf_counter() - started:.3f} s: {len(city.districts)} districts, {len(streets)} streets, "
        f"{sum(len(s.communities) for s in streets):,} communities, "
        f"{sum(len(d.agencies) for d in city.departments):,} agencies",
    )
    points = in_process(city, args, report)
    if args.embedded:
        asyncio.run(embedded(args.scale, points, args, report))
    elif args.url:
        url = args.url.rstrip("/")
        token = get_token(url, args.client_id, args.client_secret)
        asyncio.run(drive_http(url, token, points, args, report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
