"""Every dashboard panel shows data on a real Prometheus scraping the real stack.

A Prometheus (the machine's, or Debian's package unpacked by `fetch_prometheus`) scrapes the four
services every second with the project's rules, while a few dozen complaints go through claims,
sign-offs, report-backs, a return, breaches under a seconds-scale SLA policy, evaluations and
follow-up calls. Then every query of every panel of every dashboard returns at least one series,
every template variable has values, every recording and alert rule evaluates, every target is up,
and `promtool check metrics` is clean on each service's /metrics.
"""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from services.dashboards import DASHBOARDS, FOLDER
from services.local_stack import RULES
from services.sla.periods import period_of
from shared.embedded import EmbeddedPrometheus, fetch_prometheus, find_prometheus, free_port
from shared.events import utcnow
from tests.builders import create_complaint
from tests.e2e.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

FAST = {"sign_off": "2s", "contact": "4s", "report_in": "4s", "resolve": "30s"}
"""A seconds-scale SLA policy for `complex` complaints: nobody signs them off in time."""
VARIABLES = {"$district": ".*", "$department": ".*"}


def point(street: str) -> dict[str, float]:
    """A random point in street s1 or s2 of the tiny city (never the same twice: nothing merges),
    west of 116.41: community s1-02 east of it is test_intake_merging's own."""
    low = 39.9005 if street == "s1" else 39.9105
    return {
        "lat": round(random.uniform(low, low + 0.009), 6),
        "lon": round(random.uniform(116.4005, 116.4095), 6),
    }


def panel_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in VARIABLES.items():
                expr = expr.replace(name, value)
            yield panel["title"], expr


@pytest.fixture(scope="module")
async def prometheus(stack) -> Any:  # type: ignore[no-untyped-def]
    binary = fetch_prometheus()
    assert binary is not None, "no prometheus binary and none could be fetched (apt-get install prometheus)"
    targets = [url.removeprefix("http://") for url in stack.urls.values()]
    server = EmbeddedPrometheus(
        binary,
        Path(tempfile.mkdtemp(prefix="whistle-prometheus-")),
        targets=targets,
        rules=RULES,
        port=free_port(),
        scrape_seconds=1,
        log_to=(stack.log_dir / "prometheus.log").open("ab"),
    )
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as prom:

        async def every_target_scraped() -> bool:
            """Scraped once before anything happens, so counters are seen rising from their start."""
            found = (await prom.get("/api/v1/targets")).json()["data"]["activeTargets"]
            return len(found) == len(targets) and all(t["health"] == "up" for t in found)

        await eventually(every_target_scraped)
    yield server
    await asyncio.to_thread(server.stop)


async def query(prom: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    answer = (await prom.get("/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
    return answer["data"]["result"]  # type: ignore[no-any-return]


async def drive_the_city(stack: Any) -> None:
    """A few dozen complaints through the whole flow, a return, breaches, evaluations, follow-ups."""
    async with (
        stack.client("registry", as_client="admin") as admin,
        stack.client("intake", as_client="hotline") as hotline,
        stack.client("dispatch", as_client="dept-zjw") as zjw,
        stack.client("sla", as_client="street-s1") as street_sla,
        stack.client("dispatch", as_client="street-s2") as street,
    ):
        put = await admin.put("/v1/policies/sla/complex", json=FAST)
        assert put.status_code == 200, put.text
        api_key = stack.api_key()

        filed: list[str] = []
        for i in range(24):
            body = create_complaint(location=point("s1" if i % 2 else "s2"))
            response = await hotline.post("/v1/complaints", json=body)
            assert response.status_code == 201, response.text
            filed.append(response.json()["id"])
        for category in ("garbage_piling", "water_supply", "heating"):
            at = point("s2")
            response = await hotline.post(
                "/open311/v2/requests.json",
                data={"api_key": api_key, "service_code": category, "lat": str(at["lat"]),
                      "long": str(at["lon"]), "description": "楼下积水", "phone": "13711112222"},
            )  # fmt: skip
            assert response.status_code in (200, 201), response.text
        twice = create_complaint(location=point("s1"))
        for _ in range(2):  # the same matter from a second resident: merged
            await hotline.post("/v1/complaints", json=twice | {"source_ref": f"dup-{random.random()}"})

        async def complex_ones_run_fast() -> bool:
            """Complex complaints filed until SLA's copy of the city has the fast policy."""
            body = create_complaint(location=point("s1"), urgency="complex")
            complaint = (await hotline.post("/v1/complaints", json=body)).json()["id"]
            async with stack.client("sla", as_client="viewer") as sla:

                async def sign_off_clock() -> dict[str, Any] | None:
                    clocks = (await sla.get("/v1/clocks", params={"complaint_id": complaint})).json()
                    return next((c for c in clocks if c["stage"] == "sign_off"), None)

                clock = await eventually(sign_off_clock)
            took = datetime.fromisoformat(clock["due_at"]) - datetime.fromisoformat(clock["started_at"])
            return took.total_seconds() <= 60

        await eventually(complex_ones_run_fast, seconds=60)

        worked, answered = 0, []
        while worked < 12:
            page = (
                await zjw.post(
                    "/v1/departments/zjw/claims", json={"worker": "w1", "max": 20, "wait_seconds": 5}
                )
            ).json()
            for item in page["items"]:
                if item["complaint_id"] not in filed or worked >= 12:
                    await zjw.post(f"/v1/assignments/{item['id']}/release", json={"worker": "w1"})
                    continue
                url = f"/v1/assignments/{item['id']}"
                assert (await zjw.post(f"{url}/sign-off", json={"worker": "w1"})).status_code == 200
                if worked == 0:
                    returned = await zjw.post(
                        f"{url}/return", json={"reason": "not_our_duty", "worker": "w1"}
                    )
                    assert returned.status_code == 200, returned.text
                else:
                    await zjw.post(f"{url}/report-in", json={"kind": "contacted", "worker": "w1"})
                    back = await zjw.post(f"{url}/report-back", json={"result": "resolved", "worker": "w1"})
                    assert back.status_code == 200, back.text
                    answered.append(item["complaint_id"])
                worked += 1

        for n, complaint in enumerate(answered):

            async def resolved(complaint: str = complaint) -> bool:
                return (await hotline.get(f"/v1/complaints/{complaint}")).json()["status"] == "resolved"

            await eventually(resolved)
            satisfaction = "unsatisfied" if n % 4 == 0 else "satisfied"
            followed = await hotline.post(
                f"/v1/complaints/{complaint}/feedback", json={"resolved": True, "satisfaction": satisfaction}
            )
            assert followed.status_code == 200, followed.text

        period = str(period_of(utcnow()))
        for unit, score in (("d1-zjw", 80), ("d1-cgw", 90)):
            evaluated = await street_sla.post(
                "/v1/evaluations", json={"unit_code": unit, "period": period, "score": score}
            )
            assert evaluated.status_code in (200, 201), evaluated.text
        blown = await street.post(
            "/v1/streets/s2/whistles",
            json={"category": "water_supply", "description": "河道护栏损坏", "reason": "需水务局到场",
                  "departments": ["sw"]},
        )  # fmt: skip
        assert blown.status_code == 201, blown.text


async def test_every_panel_query_and_rule_returns_data_on_a_real_prometheus(stack, prometheus) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("registry", as_client="admin") as admin:
        before = (await admin.get("/v1/snapshot")).json()["city"]["policies"]["sla"]["complex"]
    try:
        await drive_the_city(stack)
    finally:
        async with stack.client("registry", as_client="admin") as admin:
            await admin.put("/v1/policies/sla/complex", json=before)

    async with httpx.AsyncClient(base_url=prometheus.url, timeout=10) as prom:

        async def caught_up() -> bool:
            """What the drive did has reached Prometheus: breaches fired, sign-offs timed, ranks read."""
            checks = (
                "sum(whistle_sla_breaches_total) > 0",
                "sum(whistle_dispatch_sign_off_latency_seconds_count) > 0",
                "count(whistle_sla_rank) > 0",
                'count(whistle:rate_ratio{rate="satisfaction"}) > 0',  # recorded by a rule, a round later
                "sum(whistle_sla_street_evaluations) > 0",
                "sum(increase(whistle_intake_follow_ups_total[5m])) > 0",
            )
            return all([await query(prom, c) for c in checks])

        await eventually(caught_up, seconds=60)

        targets = (await prom.get("/api/v1/targets")).json()["data"]["activeTargets"]
        assert len(targets) == 4 and {t["health"] for t in targets} == {"up"}, targets

        shown: list[str] = []
        empty: list[str] = []
        for name in sorted(DASHBOARDS):
            committed = orjson.loads((FOLDER / f"{name}.json").read_bytes())
            parsed = Dashboard.from_json(committed)
            assert orjson.loads(JSONEncoder(sort_keys=True).encode(parsed)) == committed, name
            for variable in committed.get("templating", {}).get("list", []):
                metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"]).groups()  # type: ignore[union-attr]
                values = (await prom.get(f"/api/v1/label/{label}/values", params={"match[]": metric})).json()
                assert values["data"], f"{name}: variable {variable['name']} has no values"
            for title, expr in panel_queries(committed):
                result = await query(prom, expr)
                if not result:
                    empty.append(f"{name} / {title}: {expr}")
                first = result[0]["value"][1] if result else "-"
                shown.append(f"{name:<12} {title[:60]:<60} {len(result):>3} series, first {first}")
        print("\n".join(shown))
        assert not empty, "panels with no series:\n" + "\n".join(empty)

        rules = yaml.safe_load(RULES.read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                await query(prom, rule["expr"])  # evaluates without error

        async def rules_evaluated() -> bool:
            groups = (await prom.get("/api/v1/rules")).json()["data"]["groups"]
            return all(r.get("health") == "ok" for g in groups for r in g["rules"])

        await eventually(rules_evaluated, seconds=20)

    promtool = find_prometheus(tool="promtool")
    assert promtool is not None
    async with httpx.AsyncClient(timeout=10) as client:
        for service, url in stack.urls.items():
            text = (await client.get(f"{url}/metrics")).content
            checked = await asyncio.to_thread(
                subprocess.run, [promtool, "check", "metrics"], input=text, capture_output=True
            )
            assert checked.returncode == 0, f"{service}: {checked.stdout.decode()}{checked.stderr.decode()}"
