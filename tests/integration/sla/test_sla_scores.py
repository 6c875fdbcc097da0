"""Evaluations, scores, scorecards and closing a period on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.sla import evaluations
from services.sla.closing import close_period
from services.sla.periods import period_of
from services.sla.repository import periods
from services.sla.scorecards import scorecard
from services.sla.standings import board
from services.sla.units import Directory
from shared.access import Principal, scopes_for
from shared.city import Agency, CityData, Department
from shared.city_index import CityIndex
from shared.errors import Conflict, Forbidden, Unprocessable
from shared.events import (
    AssignmentReportedBack,
    AssignmentSignedOff,
    ComplaintFeedbackRecorded,
    WhistleCompleted,
    utcnow,
)
from tests.conftest import tiny_city
from tests.integration.sla.conftest import SlaDb, create_issued, of

pytestmark = pytest.mark.integration

S1 = Principal("street-s1", "street", scopes_for("street"), street="s1")


def city_with_a_far_agency() -> CityData:
    """The tiny city and a department whose only agency serves s2."""
    city = tiny_city()
    far = Department(
        code="scj",
        name="市场监管局",
        kind="market",
        agencies=[Agency(code="d1-scj", name="东区市场监管局", district="d1", serves=["s2"])],
    )
    return city.model_copy(update={"departments": [*city.departments, far]})


async def handled(sla: SlaDb, *, late_sign_off: bool, satisfaction: str = "satisfied") -> str:
    # three hours ago, but within this month (so the whole case falls in this period)
    start = max(utcnow() - timedelta(hours=3), period_of(utcnow()).span().start + timedelta(minutes=1))
    whistle = create_issued(issued_at=start)
    sign_off = whistle.issued_at + timedelta(minutes=45 if late_sign_off else 5)
    back = whistle.issued_at + timedelta(hours=2)
    await sla.deliver(
        whistle,
        AssignmentSignedOff(**of(whistle, at=sign_off)),
        AssignmentReportedBack(**of(whistle, at=back), result="resolved"),
        WhistleCompleted(
            whistle_id=whistle.whistle_id,
            complaint_id=whistle.complaint_id,
            result="resolved",
            at=back,
            unit_code="d1-zjw",
        ),
        ComplaintFeedbackRecorded(
            complaint_id=whistle.complaint_id,
            category="illegal_construction",
            street_code="s1",
            resolved=True,
            satisfaction=satisfaction,  # type: ignore[arg-type]
            at=back + timedelta(minutes=30),
        ),
    )
    return whistle.complaint_id


async def test_the_scorecard_lists_every_case_and_the_shares_add_up_to_the_score(sla: SlaDb) -> None:
    late = await handled(sla, late_sign_off=True, satisfaction="basically_satisfied")
    on_time = await handled(sla, late_sign_off=False)
    units = Directory(CityIndex.build(tiny_city()))
    async with sla.sessions() as session:
        await evaluations.record(
            session,
            principal=S1,
            body=evaluations.EvaluationIn("d1-zjw", str(period_of(utcnow())), 90.0),
            units=units,
            now=utcnow(),
        )
        card = await scorecard(
            session, unit=units.units["d1-zjw"], span=period_of(utcnow()).span(), city=tiny_city()
        )
    assert card["n"] == 2 and card["score"] is not None
    shares = sum(c["contributes"] for c in card["counted"]) + sum(
        e["contributes"] for e in card["evaluations"]
    )
    assert shares == pytest.approx(card["score"])
    response = {c["complaint_id"]: c["outcome"] for c in card["counted"] if c["measure"] == "response"}
    assert response == {late: "breached", on_time: "met"}
    assert card["rates"]["satisfaction"]["rate"] == pytest.approx(0.9)
    # the co-department's clocks were cancelled when the whistle completed: not the lead's, and excluded
    assert not [c for c in card["excluded"] if c["unit_code"] != "d1-zjw"]


async def test_a_department_scores_its_agencies_together_and_a_small_sample_is_not_ranked(sla: SlaDb) -> None:
    await handled(sla, late_sign_off=False)
    async with sla.sessions() as session:
        departments = await board(
            session, span=period_of(utcnow()).span(), level="department", city=tiny_city()
        )
    zjw = next(s for s in departments.standings if s.unit.unit_code == "zjw")
    assert zjw.unit.n == 1 and (zjw.rank, zjw.band, zjw.unit.eligible) == (None, None, False)


async def test_a_street_evaluates_an_agency_once_per_period_and_may_change_it(sla: SlaDb) -> None:
    units = Directory(CityIndex.build(tiny_city()))
    period = str(period_of(utcnow()))
    async with sla.sessions() as session, session.begin():
        _, created = await evaluations.record(
            session,
            principal=S1,
            body=evaluations.EvaluationIn("d1-zjw", period, 70.0),
            units=units,
            now=utcnow(),
        )
        row, again = await evaluations.record(
            session,
            principal=S1,
            body=evaluations.EvaluationIn("d1-zjw", period, 85.0),
            units=units,
            now=utcnow(),
        )
    assert (created, again, row.score) == (True, False, 85.0)
    assert len(await sla.rows("SELECT * FROM sla.evaluations")) == 1


async def test_evaluating_an_agency_that_does_not_serve_the_street_is_refused_and_nothing_written(
    sla: SlaDb,
) -> None:
    units = Directory(CityIndex.build(city_with_a_far_agency()))
    body = evaluations.EvaluationIn("d1-scj", str(period_of(utcnow())), 50.0)
    with pytest.raises(Forbidden):
        async with sla.sessions() as session, session.begin():
            await evaluations.record(session, principal=S1, body=body, units=units, now=utcnow())
    assert await sla.rows("SELECT * FROM sla.evaluations") == []


async def test_a_closed_period_takes_no_more_evaluations(sla: SlaDb) -> None:
    units = Directory(CityIndex.build(tiny_city()))
    period = period_of(utcnow())
    async with sla.sessions() as session, session.begin():
        await close_period(
            session,
            period=period,
            city=tiny_city(),
            by="admin",
            events=sla.handlers.keeper.events,
            now=utcnow(),
        )
    with pytest.raises(Unprocessable) as refused:
        async with sla.sessions() as session, session.begin():
            await evaluations.record(
                session,
                principal=S1,
                body=evaluations.EvaluationIn("d1-zjw", str(period), 120.0),
                units=units,
                now=utcnow(),
            )
    assert refused.value.errors == [{"field": "score", "message": "a score is between 0 and 100"}]
    with pytest.raises(Unprocessable) as closed:
        async with sla.sessions() as session, session.begin():
            await evaluations.record(
                session,
                principal=S1,
                body=evaluations.EvaluationIn("d1-zjw", str(period), 80.0),
                units=units,
                now=utcnow(),
            )
    assert closed.value.errors == [{"field": "period", "message": f"period {period} is closed"}]


async def test_closing_a_period_publishes_each_units_standing_once(sla: SlaDb) -> None:
    await handled(sla, late_sign_off=False)
    period = period_of(utcnow())
    async with sla.sessions() as session, session.begin():
        published = await close_period(
            session,
            period=period,
            city=tiny_city(),
            by="admin",
            events=sla.handlers.keeper.events,
            now=utcnow(),
        )
    events = await sla.events("score.published")
    assert {(e.payload["level"], e.payload["unit_code"]) for e in events} == {
        (level, row["unit_code"]) for level, rows in published.items() for row in rows
    }
    assert ("agency", "d1-zjw") in {(e.payload["level"], e.payload["unit_code"]) for e in events}
    with pytest.raises(Conflict):
        async with sla.sessions() as session, session.begin():
            await close_period(
                session,
                period=period,
                city=tiny_city(),
                by="admin",
                events=sla.handlers.keeper.events,
                now=utcnow(),
            )
    async with sla.sessions() as session:
        kept = await periods.published(session, str(period), "agency")
    assert sorted(kept, key=lambda r: r["unit_code"]) == sorted(
        published["agency"], key=lambda r: r["unit_code"]
    )
