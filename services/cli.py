"""The `whistle` command."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from shared.migrations import SERVICES, alembic_config, upgrade_all
from shared.settings import InfraSettings

app = typer.Typer(
    help="Whistle: whistle-and-report dispatch for a 12345-style city hotline.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def up(
    home: Annotated[Path, typer.Option(help="where local data and logs are kept")] = Path(".whistle"),
    pg_port: Annotated[int, typer.Option(help="embedded PostgreSQL port")] = 15432,
    broker_port: Annotated[int, typer.Option(help="embedded broker port")] = 19092,
    seed: Annotated[bool, typer.Option(help="seed the demo city if the registry is empty")] = True,
    base_port: Annotated[
        int, typer.Option(help="services listen on BASE+1 … BASE+4 (registry, intake, dispatch, sla)")
    ] = 8000,
    prometheus: Annotated[
        str | None, typer.Option(help="a Prometheus binary (default: `prometheus` on the PATH, if any)")
    ] = None,
    prometheus_port: Annotated[int, typer.Option(help="where the Prometheus listens")] = 19090,
    with_prometheus: Annotated[
        bool, typer.Option("--with-prometheus/--no-prometheus", help="start a Prometheus when there is one")
    ] = True,
) -> None:
    """Start the whole system on this machine (embedded PostgreSQL and broker unless configured)."""
    from services.local_stack import SERVICE_PORTS, StackConfig, run_stack

    infra = InfraSettings()
    config = StackConfig(
        home=home.resolve(),
        pg_port=pg_port,
        broker_port=broker_port,
        seed=seed,
        ports={name: port - 8000 + base_port for name, port in SERVICE_PORTS.items()},
        prometheus=prometheus,
        prometheus_port=prometheus_port,
        with_prometheus=with_prometheus,
        database_url=infra.database_url if "database_url" in infra.model_fields_set else None,
        bootstrap_servers=(
            infra.kafka_bootstrap_servers if "kafka_bootstrap_servers" in infra.model_fields_set else None
        ),
    )
    try:
        code = asyncio.run(run_stack(config))
    except (RuntimeError, TimeoutError, OSError) as exc:
        typer.secho(f"whistle up: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    raise typer.Exit(code)


@app.command()
def serve(service: Annotated[str, typer.Argument(help="registry | intake | dispatch | sla")]) -> None:
    """Run one service (settings from the environment)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{service}.app")
    application = module.build_app()
    settings = application.state.runtime.settings
    workers = int(getattr(settings, "workers", 1))
    common = dict(
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    if workers > 1:
        # Each worker process builds its own app: its own relay, consumers and /metrics.
        uvicorn.run(f"services.{service}.app:build_app", factory=True, workers=workers, **common)
    else:
        uvicorn.run(application, **common)


@app.command()
def migrate(
    service: Annotated[list[str] | None, typer.Argument(help="services (default: all)")] = None,
) -> None:
    """Apply each service's migrations to DATABASE_URL."""
    asyncio.run(upgrade_all(InfraSettings().database_url, tuple(service or SERVICES)))
    typer.echo(f"migrated {', '.join(service or SERVICES)}")


@app.command("make-migration")
def make_migration(service: str, message: Annotated[str, typer.Option("-m")]) -> None:
    """Autogenerate a migration for a service from its models (developers)."""
    from alembic import command

    importlib.import_module(f"services.{service}.models")
    command.revision(
        alembic_config(service, InfraSettings().database_url), message=message, autogenerate=True
    )


@app.command()
def seed(
    path: Annotated[Path | None, typer.Argument(help="a city file (default: the demo city)")] = None,
    scale: Annotated[str | None, typer.Option(help="a generated city instead: beijing | small")] = None,
    if_empty: Annotated[bool, typer.Option(help="only when the registry holds no city yet")] = False,
) -> None:
    """Load a city into the registry, replacing the current city (a new snapshot version)."""
    from services.registry.city_data import DEMO_CITY
    from services.registry.seeding import InvalidCity, seed_city, seed_generated
    from shared.city import load_city

    url = InfraSettings().database_url
    try:
        if scale is not None:
            if path is not None:
                raise typer.BadParameter("give a city file or --scale, not both")
            source = f"the generated {scale} city"
            version = asyncio.run(seed_generated(url, scale))
        else:
            source = str(path or DEMO_CITY)
            version = asyncio.run(seed_city(url, load_city(path or DEMO_CITY), only_if_empty=if_empty))
    except (InvalidCity, ValueError, OSError) as exc:
        typer.secho(f"whistle seed: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    typer.echo(f"seeded {source}: snapshot v{version}" if version else "the registry already holds a city")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False
)
def bench(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help=f"what to measure: {' | '.join(BENCHMARKS)} (default: all, in one table)")
    ] = "all",
) -> None:
    """Run a benchmark and print its figures (`whistle bench registry --help` lists its options;
    `whistle bench` alone runs them all and sets each figure beside this machine's raw limit)."""
    if target.startswith("-"):  # `whistle bench --quick`: options of the whole run
        ctx.args.insert(0, target)
        target = "all"
    if target not in BENCHMARKS:
        raise typer.BadParameter(f"no benchmark for {target!r}; one of {', '.join(BENCHMARKS)}")
    module = importlib.import_module(BENCHMARKS[target])
    raise typer.Exit(module.main(list(ctx.args)))


BENCHMARKS = {
    "all": "services.benchmarks.overall",
    "registry": "services.registry.bench",
    "intake": "services.intake.bench",
    "pipeline": "services.benchmarks.pipeline",
    "claims": "services.benchmarks.claims",
    "timers": "services.benchmarks.timers",
}


RegistryUrl = Annotated[str, typer.Option(help="the registry", envvar="REGISTRY_URL")]


def _demo_token(registry_url: str, client_id: str, secret: str | None = None) -> str:
    import httpx

    response = httpx.post(
        f"{registry_url.rstrip('/')}/oauth/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret or f"demo-{client_id}-secret",
        },
    )
    if response.status_code != 200:
        raise typer.BadParameter(f"the registry refused {client_id!r}: {response.text}")
    return str(response.json()["access_token"])


@app.command()
def token(
    client_id: Annotated[str, typer.Argument(help="hotline, admin, viewer, dept-<code>, street-<code>")],
    registry_url: RegistryUrl = "http://127.0.0.1:8001",
) -> None:
    """Print an access token for a seeded demo client (local stack only)."""
    typer.echo(_demo_token(registry_url, client_id))


@app.command("api-key")
def api_key(
    client_id: Annotated[str, typer.Argument(help="a hotline client, e.g. hotline")] = "hotline",
    registry_url: RegistryUrl = "http://127.0.0.1:8001",
) -> None:
    """Make and print an Open311 api_key for a seeded demo client (local stack only)."""
    import httpx

    response = httpx.post(
        f"{registry_url.rstrip('/')}/v1/clients/{client_id}/api-keys",
        timeout=10,
        headers={"Authorization": f"Bearer {_demo_token(registry_url, 'admin')}"},
    )
    if response.status_code != 201:
        raise typer.BadParameter(f"the registry refused: {response.text}")
    typer.echo(response.json()["api_key"])


@app.command()
def simulate(
    hours: Annotated[float, typer.Option(help="simulated hours to play")] = 24,
    start: Annotated[str, typer.Option(help="local time the simulated day starts (HH:MM)")] = "08:00",
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 720,
    seed: Annotated[int, typer.Option(help="two runs with one seed file the same calls")] = 1,
    report: Annotated[Path | None, typer.Option(help="write the report folder here")] = None,
    volume: Annotated[
        int | None, typer.Option(help="complaints a day (default: Beijing's, by the city's households)")
    ] = None,
    scale: Annotated[str, typer.Option(help="the city the registry holds: demo | beijing")] = "demo",
    close_period: Annotated[
        bool, typer.Option(help="close the current assessment period at the end (final for the month)")
    ] = False,
    registry_url: RegistryUrl = "http://127.0.0.1:8001",
    intake_url: Annotated[str, typer.Option(envvar="INTAKE_URL")] = "http://127.0.0.1:8002",
    dispatch_url: Annotated[str, typer.Option(envvar="DISPATCH_URL")] = "http://127.0.0.1:8003",
    sla_url: Annotated[str, typer.Option(envvar="SLA_URL")] = "http://127.0.0.1:8004",
) -> None:
    """Play a hotline day against the running stack under a compressed SLA policy, then summarise."""
    from services.simulator.console import run_in_terminal
    from services.simulator.day import SimulationConfig, local_start

    if scale not in ("demo", "beijing"):
        raise typer.BadParameter("--scale is demo or beijing")
    config = SimulationConfig(
        hours=hours,
        start=local_start(start),
        speed=speed,
        seed=seed,
        volume=volume,
        scale=scale,
        urls={"registry": registry_url, "intake": intake_url, "dispatch": dispatch_url, "sla": sla_url},
        close_period=close_period,
    )
    try:
        code = run_in_terminal(config, report)
    except (RuntimeError, ValueError, OSError) as exc:
        typer.secho(f"whistle simulate: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    raise typer.Exit(code)


client = typer.Typer(help="API clients at the registry: disable, enable, rotate a secret (admins).")
app.add_typer(client, name="client")

registry = typer.Typer(help="The registry's reports.")
app.add_typer(registry, name="registry")


@registry.command("health")
def registry_health(
    registry_url: RegistryUrl = "http://127.0.0.1:8001",
    limit: Annotated[int | None, typer.Option(help="show the first N findings only")] = None,
    at: Annotated[str | None, typer.Option(help="judge by the standards in force then (ISO-8601)")] = None,
) -> None:
    """Every street and community outside a size standard (policies.structure), furthest out first."""
    import httpx
    from rich.console import Console

    from services.registry.health_table import health_table

    response = httpx.get(
        f"{registry_url.rstrip('/')}/v1/structure/health",
        params={"at": at} if at else None,
        timeout=30,
        headers={"Authorization": f"Bearer {_demo_token(registry_url, 'viewer')}"},
    )
    if response.status_code != 200:
        raise typer.BadParameter(f"the registry refused: {response.text}")
    Console(width=200).print(health_table(response.json(), limit=limit))


AdminSecret = Annotated[
    str | None, typer.Option(envvar="WHISTLE_ADMIN_SECRET", help="the admin client's secret (default: demo)")
]


def _admin_post(registry_url: str, path: str, admin_secret: str | None) -> dict[str, object]:
    import httpx

    token_ = _demo_token(registry_url, "admin", admin_secret)
    response = httpx.post(
        f"{registry_url.rstrip('/')}{path}", timeout=10, headers={"Authorization": f"Bearer {token_}"}
    )
    if response.status_code >= 400:
        raise typer.BadParameter(f"the registry refused: {response.text}")
    return dict(response.json())


@client.command("disable")
def client_disable(
    client_id: str, registry_url: RegistryUrl = "http://127.0.0.1:8001", admin_secret: AdminSecret = None
) -> None:
    """No more tokens for the client; its api keys stop working at once, its tokens within their TTL."""
    _admin_post(registry_url, f"/v1/clients/{client_id}/disable", admin_secret)
    typer.echo(f"{client_id} disabled")


@client.command("enable")
def client_enable(
    client_id: str, registry_url: RegistryUrl = "http://127.0.0.1:8001", admin_secret: AdminSecret = None
) -> None:
    """Undo `disable`."""
    _admin_post(registry_url, f"/v1/clients/{client_id}/enable", admin_secret)
    typer.echo(f"{client_id} enabled")


@client.command("rotate-secret")
def client_rotate_secret(
    client_id: str, registry_url: RegistryUrl = "http://127.0.0.1:8001", admin_secret: AdminSecret = None
) -> None:
    """A new secret for the client, printed once; the old one stops working now."""
    body = _admin_post(registry_url, f"/v1/clients/{client_id}/rotate-secret", admin_secret)
    typer.echo(body["client_secret"])


dlq = typer.Typer(help="Dead-letter queues: what could never be handled, and sending it back.")
app.add_typer(dlq, name="dlq")
BootstrapOption = Annotated[
    str | None, typer.Option("--bootstrap", help="the broker (default: KAFKA_BOOTSTRAP_SERVERS)")
]


def _bootstrap(value: str | None) -> str:
    return value or InfraSettings().kafka_bootstrap_servers


@dlq.command("list")
def dlq_list(
    topic: Annotated[str, typer.Argument(help="the source topic, e.g. intake.complaints")],
    bootstrap: BootstrapOption = None,
) -> None:
    """List the entries of TOPIC's DLQ (PARTITION:OFFSET, when, event, error)."""
    from rich.table import Table

    from shared.dlq import read_dead_letters

    entries = asyncio.run(read_dead_letters(_bootstrap(bootstrap), topic))
    table = Table("entry", "dead-lettered at", "event", "complaint", "source", "error")
    for e in entries:
        envelope = e.envelope()
        where = f"{e.headers.get('x-source-partition', '?')}:{e.headers.get('x-source-offset', '?')}"
        source = f"{e.source_topic}/{where}"
        table.add_row(
            e.ref,
            e.timestamp.isoformat(timespec="seconds"),
            f"{envelope.type} v{envelope.version}" if envelope else "(undecodable)",
            envelope.correlation_id if envelope else "",
            source,
            e.error[:120],
        )
    from rich.console import Console

    Console().print(table)
    typer.echo(f"{len(entries)} entries in {topic}.dlq")


@dlq.command("show")
def dlq_show(
    topic: Annotated[str, typer.Argument(help="the source topic")],
    offset: Annotated[str, typer.Argument(help="the entry: PARTITION:OFFSET, or OFFSET if unambiguous")],
    bootstrap: BootstrapOption = None,
) -> None:
    """Print one DLQ entry: its headers and the message."""
    import orjson

    from shared.dlq import read_dead_letters, select

    entries = asyncio.run(read_dead_letters(_bootstrap(bootstrap), topic))
    try:
        (entry,) = select(entries, [offset])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    envelope = entry.envelope()
    body = envelope.model_dump(mode="json") if envelope else entry.value.decode(errors="replace")
    typer.echo(
        orjson.dumps(
            {
                "entry": entry.ref,
                "at": entry.timestamp.isoformat(),
                "headers": entry.headers,
                "message": body,
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )


@dlq.command("redrive")
def dlq_redrive(
    topic: Annotated[str, typer.Argument(help="the source topic")],
    offsets: Annotated[
        list[str] | None, typer.Option("--offsets", help="entries to send back (default: all)")
    ] = None,
    bootstrap: BootstrapOption = None,
) -> None:
    """Send DLQ entries back to their source topic (each takes effect once: consumers keep an inbox)."""
    from shared.dlq import read_dead_letters, redrive, select

    servers = _bootstrap(bootstrap)
    entries = asyncio.run(read_dead_letters(servers, topic))
    try:
        chosen = select(entries, [o for value in offsets for o in value.split(",")] if offsets else None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    sent = asyncio.run(redrive(servers, topic, chosen))
    typer.echo(f"redrove {sent} entries of {topic}.dlq")


@app.command()
def dashboards(
    check: Annotated[
        bool, typer.Option(help="only check the committed files are what the code makes")
    ] = False,
) -> None:
    """Write the Grafana dashboards (code in services/dashboards/) into deploy/grafana/dashboards/."""
    from services.dashboards import DASHBOARDS, FOLDER, as_file, render, write

    if check:
        stale = [n for n in DASHBOARDS if (FOLDER / f"{n}.json").read_bytes() != as_file(render(n))]
        if stale:
            typer.secho(f"out of date: {', '.join(stale)} (run `whistle dashboards`)", err=True, fg="red")
            raise typer.Exit(1)
        typer.echo(f"{len(DASHBOARDS)} dashboards up to date")
        return
    for path in write():
        typer.echo(f"wrote {path}")


sla = typer.Typer(help="The SLA service's data.")
app.add_typer(sla, name="sla")


@sla.command(
    "rebuild",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sla_rebuild(ctx: typer.Context) -> None:
    """Empty SLA's tables and rebuild them from the topics, from offset 0 (`--help` for options)."""
    module = importlib.import_module("services.sla.rebuild")
    raise typer.Exit(module.main(list(ctx.args)))


@app.command("pii-key")
def pii_key() -> None:
    """Print a new key for residents' data (INTAKE_PII_KEYS)."""
    from services.intake.pii import new_key

    typer.echo(new_key())


if __name__ == "__main__":
    app()
