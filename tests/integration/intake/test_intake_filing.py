"""Filing complaints on the real database: checks, idempotency, encryption, merging, events."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.intake import repository, timeline_repository
from services.intake.pii import PiiCipher, new_key
from services.intake.rotation import rotate_all
from shared.errors import Conflict, Unprocessable
from tests.integration.intake.conftest import IntakeDb, create_draft

pytestmark = pytest.mark.integration


async def test_a_filed_complaint_is_placed_stored_encrypted_and_announced(intake: IntakeDb) -> None:
    filed = await intake.file(create_draft(address="一街道1号楼 🏠", email="zs@example.cn"))
    complaint = filed.complaint
    assert filed.created
    assert (complaint.district_code, complaint.street_code, complaint.community_code) == ("d1", "s1", "s1-01")
    assert complaint.urgency == "normal" and complaint.status == "received"
    raw = await intake.scalar("SELECT reporter_phone FROM intake.complaints WHERE id = :id", id=complaint.id)
    assert b"13800138000" not in raw and intake.ctx.cipher.decrypt(raw) == "13800138000"
    assert intake.ctx.cipher.decrypt(complaint.address_enc) == "一街道1号楼 🏠"
    [event] = await intake.events(complaint.id)
    assert event.type == "complaint.received"
    assert event.payload["street_code"] == "s1"
    assert "张三" not in event.model_dump_json() and "138" not in str(event.payload)


async def test_the_same_reference_twice_gives_the_same_complaint_and_one_event(intake: IntakeDb) -> None:
    draft = create_draft()
    first = await intake.file(draft)
    again = await intake.file(draft)
    assert not again.created and again.complaint.id == first.complaint.id
    assert len(await intake.events(first.complaint.id)) == 1


async def test_a_reference_reused_for_a_different_complaint_is_a_conflict_naming_it(intake: IntakeDb) -> None:
    draft = create_draft()
    first = await intake.file(draft)
    with pytest.raises(Conflict) as caught:
        await intake.file(create_draft(source_ref=draft.source_ref, description="另一件事"))
    assert caught.value.extra["existing_id"] == first.complaint.id


async def test_an_idempotency_key_stands_in_for_a_missing_reference(intake: IntakeDb) -> None:
    draft = create_draft(source="web", source_ref=None, idempotency_key="k-1")
    first = await intake.file(draft)
    again = await intake.file(draft)
    assert again.complaint.id == first.complaint.id and not again.created
    with pytest.raises(Conflict):
        await intake.file(create_draft(source="web", source_ref=None, idempotency_key="k-1", description="x"))
    other = await intake.file(create_draft(source="web", source_ref=None, idempotency_key="k-2", lat=39.915))
    assert other.created


async def test_bad_complaints_list_every_problem_and_leave_nothing_behind(intake: IntakeDb) -> None:
    with pytest.raises(Unprocessable) as caught:
        await intake.file(create_draft(category="nope", lat=10.0, lon=10.0, description="x" * 4001))
    fields = {e["field"] for e in caught.value.errors or []}
    assert fields == {"category", "location", "description"}
    with pytest.raises(Unprocessable):
        await intake.file(create_draft(community_code="nowhere", lat=None, lon=None))
    assert await intake.scalar("SELECT count(*) FROM intake.complaints") == 0
    assert await intake.events() == []


async def test_attribute_values_are_checked_against_the_category(intake: IntakeDb) -> None:
    with pytest.raises(Unprocessable) as caught:
        await intake.file(create_draft(category="garbage_piling", attributes={"volume": "huge"}))
    assert "attribute[volume]" in (caught.value.errors or [{}])[0]["message"]
    filed = await intake.file(create_draft(category="garbage_piling", attributes={"volume": "large"}))
    assert filed.complaint.attributes == {"volume": "large"}


async def test_a_community_code_places_a_complaint_without_a_point(intake: IntakeDb) -> None:
    filed = await intake.file(create_draft(lat=None, lon=None, community_code="s2-02"))
    assert filed.complaint.street_code == "s2" and filed.complaint.lat is None


async def test_a_near_duplicate_is_merged_into_the_open_complaint(intake: IntakeDb) -> None:
    original = (await intake.file(create_draft())).complaint
    near = (await intake.file(create_draft(lat=39.9051, lon=116.4051, name="李四"))).complaint
    far = (await intake.file(create_draft(lat=39.9085, lon=116.4085))).complaint
    other_kind = (await intake.file(create_draft(category="garbage_piling"))).complaint
    assert near.merged_into == original.id
    assert far.merged_into is None and other_kind.merged_into is None
    count = await intake.scalar("SELECT reporter_count FROM intake.complaints WHERE id = :id", id=original.id)
    assert count == 2
    merged = [e for e in await intake.events() if e.type == "complaint.merged"]
    assert [
        (e.payload["complaint_id"], e.payload["into_complaint_id"], e.payload["reporter_count"])
        for e in merged
    ] == [(near.id, original.id, 2)]
    received = {e.payload["complaint_id"] for e in await intake.events() if e.type == "complaint.received"}
    assert near.id not in received and {original.id, far.id, other_kind.id} <= received


async def test_merging_can_be_turned_off(intake: IntakeDb) -> None:
    from services.intake.context import MergePolicy

    intake.ctx.merge = MergePolicy(distance_meters=0)
    first = (await intake.file(create_draft())).complaint
    second = (await intake.file(create_draft())).complaint
    assert second.merged_into is None and first.id != second.id


async def test_rows_written_under_an_old_key_read_and_rotate_under_a_new_one(intake: IntakeDb) -> None:
    old, new = new_key(), new_key()
    intake.ctx.cipher = PiiCipher([old])
    filed = (await intake.file(create_draft(email="zs@example.cn"))).complaint
    both = PiiCipher([new, old])
    assert both.decrypt(filed.reporter_phone) == "13800138000"
    async with intake.sessions() as session, session.begin():
        assert await rotate_all(session, both) == 1
    async with intake.sessions() as session:
        stored = await repository.get(session, filed.id)
    assert stored is not None
    only_new = PiiCipher([new])
    assert only_new.decrypt(stored.reporter_phone) == "13800138000"
    assert only_new.decrypt(stored.reporter_email) == "zs@example.cn"
    assert only_new.decrypt(stored.reporter_name) == "张三"


async def test_the_one_statement_path_writes_what_the_transactional_path_writes(
    intake: IntakeDb, intake_url: str
) -> None:
    from services.intake.filing import file_new_quickly
    from shared.db import create_engine

    engine = create_engine(intake_url, pool_size=2)
    try:
        draft = create_draft(lat=None, lon=None, community_code="s1-02", attributes={}, email="a@b.cn")
        quick = await file_new_quickly(engine=engine, ctx=intake.ctx, draft=draft)
        assert quick is not None and quick.created
        assert await file_new_quickly(engine=engine, ctx=intake.ctx, draft=draft) is None  # filed before
        again = await intake.file(draft)
        assert not again.created and again.complaint.id == quick.complaint.id
        assert intake.ctx.cipher.decrypt(again.complaint.reporter_email) == "a@b.cn"
        [event] = await intake.events(quick.complaint.id)
        assert event.type == "complaint.received" and event.payload["community_code"] == "s1-02"
        async with intake.sessions() as session:
            [entry] = await timeline_repository.timeline(session, quick.complaint.id)
        assert (entry.status, entry.note) == ("received", "您的诉求已受理")
        headers = await intake.scalar(
            "SELECT headers FROM intake.outbox WHERE key = :k", k=quick.complaint.id
        )
        assert headers == {"type": "complaint.received", "version": "1"}
        bad = await file_new_quickly(engine=engine, ctx=intake.ctx, draft=create_draft(category="ufo"))
        assert bad is None
    finally:
        await engine.dispose()


async def test_filing_writes_one_outbox_row_keyed_by_the_complaint_and_wakes_the_relay(
    intake: IntakeDb, intake_url: str
) -> None:
    from services.intake.filing import file_draft
    from shared.db import create_engine
    from shared.events import ComplaintReceived, Envelope
    from shared.messaging_tables import on_commit

    woken: list[str] = []
    engine = create_engine(intake_url, pool_size=2)
    stop = on_commit(intake.ctx.outbox.table, lambda: woken.append("woken"))
    try:
        # No point: no merge can be due, so the one-statement path files it.
        quick = await file_draft(
            engine=engine, ctx=intake.ctx, draft=create_draft(lat=None, lon=None, community_code="s1-02")
        )
        assert quick.created and woken == ["woken"]
        # A point within the merge policy: the full path, in a session.
        full = await file_draft(engine=engine, ctx=intake.ctx, draft=create_draft())
        assert full.created and full.complaint.merged_into is None and woken == ["woken", "woken"]
        async with intake.sessions() as session:
            found = await session.execute(text("SELECT key, topic, value FROM intake.outbox ORDER BY id"))
            rows = found.all()
        assert [r.key for r in rows] == [quick.complaint.id, full.complaint.id]
        for row, filed in zip(rows, (quick, full), strict=True):
            envelope = Envelope.from_bytes(row.value)
            assert envelope.type == "complaint.received" and row.topic == ComplaintReceived.TOPIC
            assert envelope.correlation_id == filed.complaint.id == envelope.payload["complaint_id"]
    finally:
        stop()
        await engine.dispose()
