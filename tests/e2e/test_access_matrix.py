"""Who may read and do what, on the real stack: one row per client kind × endpoint × own/other, and
every refusal (403) written to the refusing service's audit log with who, what and when.

The complaint of the module is filed in street s1 (district d1) for the illegal-construction
category: zjw (lead) and cgw (co) are summoned, sw is not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.sla.periods import period_of
from shared.events import utcnow
from tests.builders import create_complaint
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Row:
    client: str
    service: str
    method: str
    path: str  # {complaint}, {assignment} (zjw's), {period} filled in
    status: int
    body: dict[str, Any] | None = None
    check: Callable[[Any], bool] | None = None  # on a 200 answer: nothing that is not theirs


def no_foreign_notes(whistles: list[dict[str, Any]]) -> bool:
    """A department reading a complaint's whistles sees its own assignments' notes only."""
    return all(a["department_code"] == "zjw" or not a.get("note") for w in whistles for a in w["assignments"])


def own_clocks_only(department: str) -> Callable[[Any], bool]:
    def check(clocks: list[dict[str, Any]]) -> bool:
        return bool(clocks) and all(c.get("department_code") in (department, None) for c in clocks)

    return check


MATRIX = [
    # dispatch: queues, claims and actions
    Row("dept-zjw", "dispatch", "GET", "/v1/departments/zjw/queue", 200),
    Row("dept-cgw", "dispatch", "GET", "/v1/departments/zjw/queue", 403),
    Row("street-s1", "dispatch", "GET", "/v1/departments/zjw/queue", 403),
    Row("hotline", "dispatch", "GET", "/v1/departments/zjw/queue", 403),
    Row("viewer", "dispatch", "GET", "/v1/departments/zjw/queue", 200),
    Row("dept-cgw", "dispatch", "POST", "/v1/departments/zjw/claims", 403, {"worker": "w", "max": 1}),
    Row("dept-cgw", "dispatch", "POST", "/v1/assignments/{assignment}/sign-off", 403, {}),
    Row("street-s2", "dispatch", "POST", "/v1/assignments/{assignment}/sign-off", 403, {}),
    Row("hotline", "dispatch", "POST", "/v1/assignments/{assignment}/sign-off", 403, {}),
    Row("viewer", "dispatch", "POST", "/v1/assignments/{assignment}/sign-off", 403, {}),
    # dispatch: whistles of a complaint, of a street, of a district
    Row("dept-zjw", "dispatch", "GET", "/v1/whistles?complaint_id={complaint}", 200, check=no_foreign_notes),
    Row("dept-sw", "dispatch", "GET", "/v1/whistles?complaint_id={complaint}", 403),
    Row("street-s1", "dispatch", "GET", "/v1/whistles?complaint_id={complaint}", 200),
    Row("street-s2", "dispatch", "GET", "/v1/whistles?complaint_id={complaint}", 403),
    Row("district-d1", "dispatch", "GET", "/v1/whistles?complaint_id={complaint}", 200),
    Row("viewer", "dispatch", "GET", "/v1/whistles?complaint_id={complaint}", 200),
    Row("street-s1", "dispatch", "GET", "/v1/streets/s1/whistles", 200),
    Row("street-s2", "dispatch", "GET", "/v1/streets/s1/whistles", 403),
    Row("dept-zjw", "dispatch", "GET", "/v1/streets/s1/whistles", 403),
    Row("district-d1", "dispatch", "GET", "/v1/streets/s1/whistles", 200),
    Row("street-s1", "dispatch", "GET", "/v1/districts/d1/escalations", 403),
    Row("district-d1", "dispatch", "GET", "/v1/districts/d1/escalations", 200),
    Row(
        "street-s2",
        "dispatch",
        "POST",
        "/v1/streets/s1/whistles",
        403,
        {
            "category": "illegal_construction",
            "description": "x",
            "urgency": "normal",
            "reason": "x",
            "location": {"community_code": "s1-01"},
        },
    ),
    # sla: clocks, scorecards, evaluations, periods
    Row("dept-zjw", "sla", "GET", "/v1/clocks?complaint_id={complaint}", 200, check=own_clocks_only("zjw")),
    Row("dept-sw", "sla", "GET", "/v1/clocks?complaint_id={complaint}", 403),
    Row("street-s2", "sla", "GET", "/v1/clocks?complaint_id={complaint}", 403),
    Row("viewer", "sla", "GET", "/v1/clocks?complaint_id={complaint}", 200),
    Row("dept-zjw", "sla", "GET", "/v1/scorecards/d1-zjw?period={period}", 200),
    Row("dept-cgw", "sla", "GET", "/v1/scorecards/d1-zjw?period={period}", 403),
    Row("street-s2", "sla", "GET", "/v1/scorecards/d1-zjw?period={period}", 403),
    Row("district-d1", "sla", "GET", "/v1/scorecards/d1-zjw?period={period}", 200),
    Row(
        "dept-zjw",
        "sla",
        "POST",
        "/v1/evaluations",
        403,
        {"unit_code": "d1-zjw", "period": "{period}", "score": 90},
    ),
    Row("dept-zjw", "sla", "POST", "/v1/periods/{period}/close", 403, {}),
    Row("street-s1", "sla", "POST", "/v1/periods/{period}/close", 403, {}),
    # intake: complaints and residents' contact details
    Row("hotline", "intake", "GET", "/v1/complaints/{complaint}", 200),
    Row("dept-zjw", "intake", "GET", "/v1/complaints/{complaint}", 200),
    # a complaint that is not theirs is not found: its existence is not told either
    Row("dept-sw", "intake", "GET", "/v1/complaints/{complaint}", 404),
    Row("street-s2", "intake", "GET", "/v1/complaints/{complaint}", 404),
    Row("dept-sw", "intake", "GET", "/v1/complaints/{complaint}/contact", 403),
    Row("dept-zjw", "intake", "POST", "/v1/complaints", 403, create_complaint()),
    # registry: admin writes
    Row("dept-zjw", "registry", "PUT", "/v1/policies/sla/normal", 403, {"sign_off": "2h", "resolve": "5d"}),
    Row("hotline", "registry", "GET", "/v1/audit", 403),
]


@pytest.fixture(scope="module")
async def subject(stack) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with (
        stack.client("intake", as_client="hotline") as hotline,
        stack.client("dispatch", as_client="dept-zjw") as zjw,
    ):
        filed = await hotline.post("/v1/complaints", json=create_complaint())
        assert filed.status_code == 201, filed.text
        complaint = filed.json()["id"]

        async def queued() -> str | None:
            page = (await zjw.get("/v1/departments/zjw/queue")).json()
            return next((a["id"] for a in page["items"] if a["complaint_id"] == complaint), None)

        assignment = await eventually(queued)
        async with stack.client("sla", as_client="viewer") as sla:
            await eventually(lambda: _any(sla.get("/v1/clocks", params={"complaint_id": complaint})))
    return {"complaint": complaint, "assignment": assignment, "period": str(period_of(utcnow()))}


async def _any(request: Any) -> bool:
    return bool((await request).json())


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.client}-{r.method}-{r.service}{r.path}")
async def test_the_authorisation_matrix(stack, subject: dict[str, str], row: Row) -> None:  # type: ignore[no-untyped-def]
    path = _fill(row.path, subject)
    async with stack.client(row.service, as_client=row.client) as client:
        answer = await client.request(row.method, path, json=_fill(row.body, subject))
    assert answer.status_code == row.status, answer.text
    if row.status == 403:
        assert answer.headers["content-type"] == "application/problem+json"
        async with stack.client(row.service, as_client="admin") as admin:

            async def audited() -> dict[str, Any] | None:
                items = (await admin.get("/v1/audit", params={"client_id": row.client, "limit": 200})).json()
                route = row.path.split("?")[0]
                return next(
                    (
                        i
                        for i in items["items"]
                        if i["outcome"] == "refused" and _same_route(i, row.method, route)
                    ),
                    None,
                )

            entry = await eventually(audited)
            assert entry["client_id"] == row.client and entry["at"]
    elif row.check is not None:
        assert row.check(answer.json()), answer.text


def _same_route(entry: dict[str, Any], method: str, route: str) -> bool:
    """The audit names the route template (`/v1/assignments/{assignment_id}/sign-off`)."""
    action: str = entry["action"]
    done, _, template = action.partition(" ")
    want = route.split("/")
    got = template.split("/")
    return (
        done == method
        and len(want) == len(got)
        and all(w == g or g.startswith("{") for w, g in zip(want, got, strict=True))
    )
