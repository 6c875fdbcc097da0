"""The community level at dispatch: a community's own whistle (社区吹哨) summoning its street, the
street answering it with a whistle of its own (linked), the community duty list's refusals audited
like the street's, and a community's client kept to its own community."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from shared.access import scopes_for
from shared.auth import ACCESS, AUDIENCE, ISSUER
from shared.events import ComplaintReceived, utcnow
from tests.community_city import community_city
from tests.integration.dispatch.conftest import DispatchDb

pytestmark = pytest.mark.integration

WHISTLE = {
    "category": "illegal_construction",
    "description": "小区内私搭乱建，社区劝阻无效",
    "location": {"community_code": "s1-01", "detail": "3号楼北侧"},
    "reason": "需街道和执法部门处置",
}


def as_community(dispatch: DispatchDb, code: str) -> httpx.AsyncClient:
    """A client of community `code`'s committee, with a token signed by the test's registry key."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": f"community-{code}",
        "kind": "community",
        "community": code,
        "typ": ACCESS,
        "scope": " ".join(sorted(scopes_for("community"))),
        "iat": now,
        "exp": now + 600,
    }
    token = jwt.encode(claims, dispatch.keys.private, algorithm="EdDSA", headers={"kid": "test"})  # type: ignore[arg-type]
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=dispatch.app),
        base_url="http://dispatch.test",
        headers={"Authorization": f"Bearer {token}"},
        timeout=40,
    )


@pytest.fixture
def community_level(dispatch: DispatchDb) -> DispatchDb:
    dispatch.install(community_city())
    return dispatch


async def test_a_community_whistle_summons_its_street_and_the_street_answers_with_a_linked_whistle(
    community_level: DispatchDb,
) -> None:
    dispatch = community_level
    async with as_community(dispatch, "s1-01") as community:
        blown = await community.post("/v1/communities/s1-01/whistles", json=WHISTLE)
    assert blown.status_code == 201, blown.text
    whistle = blown.json()
    assert (whistle["kind"], whistle["community_code"], whistle["street_code"]) == (
        "community_whistle",
        "s1-01",
        "s1",
    )
    assert [(a["unit_code"], a["role"]) for a in whistle["assignments"]] == [("s1-city-office", "street")]
    assert whistle["visit_required"] is True and whistle["chain"] == []
    (issued,) = await dispatch.events(whistle["complaint_id"])
    assert issued.payload["kind"] == "community_whistle" and "私搭" not in issued.to_bytes().decode()

    async with dispatch.client("street-s1") as street:
        answer = await street.post(
            "/v1/streets/s1/whistles",
            json={
                "category": "illegal_construction",
                "description": "社区上报违建，请执法和住建到场",
                "departments": ["zjw"],
                "reason": "违建认定和拆除需住建部门",
                "parent_whistle_id": whistle["id"],
            },
        )
        assert answer.status_code == 201, answer.text
        linked = answer.json()
        seen_by_street = (await street.get("/v1/communities/s1-01/whistles")).json()["items"]
    assert linked["parent_whistle_id"] == whistle["id"]
    chain = [(k["whistle_id"], k["kind"]) for k in linked["chain"]]
    assert chain == [(whistle["id"], "community_whistle"), (linked["id"], "street_whistle")]
    (street_issued,) = await dispatch.events(linked["complaint_id"])
    assert street_issued.payload["parent_whistle_id"] == whistle["id"]

    async with as_community(dispatch, "s1-01") as community, dispatch.client("dept-zjw") as zjw:
        (mine,) = (await community.get("/v1/communities/s1-01/whistles")).json()["items"]
        (departments,) = (
            await zjw.get("/v1/whistles", params={"complaint_id": linked["complaint_id"]})
        ).json()
    for view in (mine, seen_by_street[0], departments):
        assert [k["whistle_id"] for k in view["chain"]] == [whistle["id"], linked["id"]]


async def test_a_community_whistle_for_its_own_duty_list_work_is_refused_and_audited(
    community_level: DispatchDb,
) -> None:
    async with as_community(community_level, "s1-01") as community:
        refused = await community.post(
            "/v1/communities/s1-01/whistles", json=WHISTLE | {"category": "neighbor_dispute"}
        )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.category"
    assert "社区工作准入清单" in refused.json()["detail"]
    assert (
        await community_level.scalar(
            "SELECT count(*) FROM dispatch.refused_pushdowns WHERE kind = 'community_whistle'"
            " AND client_id = 'community-s1-01' AND community_code = 's1-01'"
        )
        == 1
    )
    assert await community_level.scalar("SELECT count(*) FROM dispatch.whistles") == 0


async def test_a_street_handing_a_committee_a_matter_off_the_community_list_is_refused_and_audited(
    community_level: DispatchDb,
) -> None:
    body = {
        "category": "garbage_piling",
        "description": "楼道堆物",
        "communities": ["s1-01"],
        "departments": ["cgw"],
        "reason": "请社区清理",
    }
    async with community_level.client("street-s1") as street:
        refused = await street.post("/v1/streets/s1/whistles", json=body)
        handed = await street.post(
            "/v1/streets/s1/whistles", json=body | {"category": "neighbor_dispute", "departments": []}
        )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.communities"
    assert "社区工作准入清单" in refused.json()["errors"][0]["message"]
    assert (
        await community_level.scalar(
            "SELECT count(*) FROM dispatch.refused_pushdowns WHERE kind = 'community_pushdown'"
            " AND client_id = 'street-s1'"
        )
        == 1
    )
    assert handed.status_code == 201, handed.text
    assert [(a["unit_code"], a["role"]) for a in handed.json()["assignments"]] == [
        ("s1-01-committee", "community")
    ]


async def test_a_rule_pushing_an_off_list_matter_down_to_a_committee_is_refused_at_dispatch_and_audited(
    community_level: DispatchDb,
) -> None:
    dispatch = community_level
    dispatch.install(community_city(community_duty_list=[]))  # the list changed; the rule did not
    complaint_id = str(uuid.uuid4())
    await dispatch.deliver(
        ComplaintReceived(
            complaint_id=complaint_id,
            source="hotline",
            category="neighbor_dispute",
            urgency="normal",
            district_code="d1",
            street_code="s1",
            community_code="s1-01",
            received_at=utcnow(),
            snapshot_version=dispatch.cache.version,
        ),
        correlation_id=complaint_id,
    )
    events = await dispatch.events(complaint_id)
    assert [e.type for e in events] == ["whistle.issued", "dispatch.refused_pushdown"]
    assert events[0].payload["assignments"][0]["unit_code"] == "d1-backstop"
    assert events[1].payload["level"] == "community"
    assert (
        await dispatch.scalar(
            "SELECT count(*) FROM dispatch.refused_pushdowns WHERE kind = 'community_pushdown'"
            " AND complaint_id = :id AND community_code = 's1-01'",
            id=complaint_id,
        )
        == 1
    )


async def test_a_complaint_on_the_community_list_goes_to_its_committee_which_works_it(
    community_level: DispatchDb,
) -> None:
    complaint_id = await community_level.complaint(category="neighbor_dispute")  # in s1-01
    async with (
        as_community(community_level, "s1-01") as community,
        as_community(community_level, "s1-02") as other,
    ):
        (whistle,) = (await community.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
        assignment = whistle["assignments"][0]
        assert (whistle["kind"], assignment["unit_code"]) == ("duty_community", "s1-01-committee")
        assert (await other.post(f"/v1/assignments/{assignment['id']}/sign-off")).status_code == 403
        signed = await community.post(f"/v1/assignments/{assignment['id']}/sign-off")
        assert signed.status_code == 200, signed.text
        assert (await other.get("/v1/whistles", params={"complaint_id": complaint_id})).status_code == 403


async def test_a_community_client_on_another_community_is_refused_and_audited(
    community_level: DispatchDb,
) -> None:
    async with as_community(community_level, "s1-02") as other:
        blown = await other.post("/v1/communities/s1-01/whistles", json=WHISTLE)
        read = await other.get("/v1/communities/s1-01/whistles")
    assert (blown.status_code, read.status_code) == (403, 403)
    assert (
        await community_level.scalar(
            "SELECT count(*) FROM dispatch.audit_log WHERE client_id = 'community-s1-02'"
        )
        == 2
    )
    async with as_community(community_level, "s1-01") as community:
        assert (await community.post("/v1/communities/nope/whistles", json=WHISTLE)).status_code == 404
        misplaced = await community.post(
            "/v1/communities/s1-01/whistles", json=WHISTLE | {"location": {"community_code": "s2-01"}}
        )
        assert misplaced.status_code == 422
        assert misplaced.json()["errors"] == [
            {"field": "body.location.community_code", "message": "not in community s1-01", "type": "location"}
        ]
    async with community_level.client("street-s1") as street:
        unlinked = await street.post(
            "/v1/streets/s1/whistles",
            json={
                "category": "illegal_construction",
                "description": "x",
                "departments": ["zjw"],
                "reason": "y",
                "parent_whistle_id": str(uuid.uuid4()),
            },
        )
    assert unlinked.status_code == 422 and unlinked.json()["errors"][0]["field"] == "body.parent_whistle_id"
