"""Old sent outbox rows and old inbox rows are pruned; unsent and set-aside rows are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.housekeeping import PRUNE_BATCH, outbox_figures, prune

pytestmark = pytest.mark.integration


async def test_pruning_deletes_only_what_is_old_and_done(playground) -> None:  # type: ignore[no-untyped-def]
    outbox, inbox = playground.tables.outbox.fullname, playground.tables.inbox.fullname
    old_sent = PRUNE_BATCH + 5  # more than one batch
    async with playground.engine.begin() as conn:
        for sent_at, failed_at, n in (
            ("now() - interval '8 days'", "NULL", old_sent),  # pruned
            ("now() - interval '1 day'", "NULL", 3),  # recent: kept
            ("NULL", "NULL", 2),  # unsent: kept
            ("NULL", "now() - interval '30 days'", 1),  # set aside: kept for an operator
        ):
            await conn.exec_driver_sql(
                f"INSERT INTO {outbox} (event_id, topic, key, value, created_at, sent_at, failed_at) "
                f"SELECT gen_random_uuid(), 't', 'k', 'v', now() - interval '9 days', {sent_at}, {failed_at} "
                f"FROM generate_series(1, {n})"
            )
        for age, n in (("8 days", 7), ("1 hour", 4)):
            await conn.exec_driver_sql(
                f"INSERT INTO {inbox} (consumer, event_id, event_type, processed_at) "
                f"SELECT 'g', gen_random_uuid(), 't', now() - interval '{age}' FROM generate_series(1, {n})"
            )
    deleted = await prune(playground.engine, playground.tables, older_than=timedelta(days=7), service="test")
    assert deleted == old_sent + 7
    assert await playground.count(playground.tables.outbox) == 3 + 2 + 1
    assert await playground.count(playground.tables.inbox) == 4
    backlog, oldest, set_aside = await outbox_figures(playground.engine, playground.tables.outbox)
    assert (backlog, set_aside) == (2, 1) and oldest > 8 * 86400
