"""What a consumer knows of its partitions: which it owns (and since which rebalance), which are
paused and until when, and which offsets are staged, deferred or known committed — and the rules
for committing them: only for a partition still owned since the round that handled it, never lower
than the committed offset, at most once per `commit_interval_seconds`, and, after a round that may
have outlived the group membership, only once the partition is owned again and the broker's offset
is behind."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer_decisions import backoff_seconds
from shared.logging import get_logger
from shared.metrics import COMMITS_SKIPPED, CONSUMER_LAG, CONSUMER_PAUSED

if TYPE_CHECKING:
    from shared.consumer import ConsumerTuning

log = get_logger(__name__)


@dataclass
class Paused:
    resume_at: float
    failures: int


class PartitionBook:
    def __init__(self, *, service: str, group: str, tuning: ConsumerTuning) -> None:
        self.service = service
        self.group = group
        self.tuning = tuning
        self.consumer: AIOKafkaConsumer | None = None
        self.owned: set[TopicPartition] = set()
        self.epoch: dict[TopicPartition, int] = defaultdict(int)
        self.committed: dict[TopicPartition, int] = {}
        self.deferred: dict[TopicPartition, tuple[int, float]] = {}  # offset, not before
        self.staged: dict[TopicPartition, tuple[int, int]] = {}  # offset, epoch: committed soon
        self.last_commit = 0.0
        self.paused: dict[TopicPartition, Paused] = {}
        self.transient_failures: dict[TopicPartition, int] = defaultdict(int)
        self.attempts: dict[tuple[TopicPartition, int], int] = {}
        self.position: dict[TopicPartition, int] = {}
        self.lag_updated = 0.0

    def owns(self, tp: TopicPartition) -> bool:
        return tp in self.owned

    def poll_timeout_ms(self, default_ms: int) -> int:
        """How long a poll may wait: not past the next paused partition's resume time."""
        if not self.paused:
            return default_ms
        soonest = min(p.resume_at for p in self.paused.values()) - time.monotonic()
        return min(default_ms, max(10, int(soonest * 1000)))

    # --- pausing --------------------------------------------------------------------------------------

    def pause(self, tp: TopicPartition, offset: int, *, transient: bool, failures: int | None = None) -> None:
        """Stop fetching the partition and come back to `offset` after a back-off."""
        if self.consumer is None or tp not in self.owned:
            return
        if transient:
            self.transient_failures[tp] += 1
            failures = self.transient_failures[tp]
        delay = backoff_seconds(
            failures or 1, base=self.tuning.retry_base_seconds, ceiling=self.tuning.retry_max_seconds
        )
        self.consumer.seek(tp, offset)
        self.consumer.pause(tp)
        self.paused[tp] = Paused(time.monotonic() + delay, failures or 1)
        CONSUMER_PAUSED.labels(self.service, self.group).set(len(self.paused))

    def resume_due(self) -> None:
        if not self.paused or self.consumer is None:
            return
        now = time.monotonic()
        due = [tp for tp, p in self.paused.items() if p.resume_at <= now]
        for tp in due:
            del self.paused[tp]
            if tp in self.owned:
                self.consumer.resume(tp)
        if due:
            CONSUMER_PAUSED.labels(self.service, self.group).set(len(self.paused))

    # --- offsets ----------------------------------------------------------------------------------------

    @property
    def _trusted_seconds(self) -> float:
        """A round longer than this may have outlived our membership of the group."""
        t = self.tuning
        limit = min(t.session_timeout_ms, t.max_poll_interval_ms) / 1000
        return max(0.5, limit - 2 * t.heartbeat_interval_ms / 1000)

    async def stage(
        self, done: Mapping[TopicPartition, int], *, epochs: Mapping[TopicPartition, int], started: float
    ) -> None:
        if not done or self.consumer is None:
            return
        stale = time.monotonic() - started > self._trusted_seconds
        settle = time.monotonic() + 2 * self.tuning.heartbeat_interval_ms / 1000
        for tp, offset in done.items():
            if stale or tp not in self.owned or self.epoch[tp] != epochs.get(tp):
                reason = "stale_round" if stale else "revoked"
                COMMITS_SKIPPED.labels(self.service, self.group, reason).inc()
                previous = self.deferred.get(tp, (-1, 0.0))[0]
                self.deferred[tp] = (max(offset, previous), settle)
                continue
            self.staged[tp] = (max(offset, self.staged.get(tp, (-1, 0))[0]), self.epoch[tp])
        if self.commit_due():
            await self.flush_staged()

    def commit_due(self) -> bool:
        return bool(self.staged) and (
            time.monotonic() - self.last_commit >= self.tuning.commit_interval_seconds
        )

    async def flush_staged(self, only: set[TopicPartition] | None = None) -> None:
        """Commit the staged offsets of partitions still ours since they were staged."""
        self.last_commit = time.monotonic()
        ready: dict[TopicPartition, int] = {}
        for tp, (offset, epoch) in list(self.staged.items()):
            if only is not None and tp not in only:
                continue
            del self.staged[tp]
            if tp in self.owned and self.epoch[tp] == epoch:
                ready[tp] = offset
        await self._commit_if_ahead(ready, verify=False)

    async def commit_deferred(self) -> None:
        """Offsets of rounds whose ownership was in doubt: committed once the partition is ours and the
        broker's committed offset is behind them."""
        if not self.deferred:
            return
        now = time.monotonic()
        ready = {
            tp: off
            for tp, (off, not_before) in self.deferred.items()
            if tp in self.owned and now >= not_before
        }
        for tp in ready:
            del self.deferred[tp]
        await self._commit_if_ahead(ready, verify=True)

    async def _commit_if_ahead(self, offsets: Mapping[TopicPartition, int], *, verify: bool) -> None:
        consumer = self.consumer
        if not offsets or consumer is None:
            return
        ahead: dict[TopicPartition, int] = {}
        for tp, offset in offsets.items():
            try:
                known = None if verify else self.committed.get(tp)
                if known is None:
                    known = await consumer.committed(tp) or 0
                    self.committed[tp] = known
            except Exception as exc:
                log.warning("consumer.committed_unknown", group=self.group, error=repr(exc)[:200])
                self.deferred[tp] = (offset, time.monotonic() + 1)
                continue
            if offset <= known:
                COMMITS_SKIPPED.labels(self.service, self.group, "not_ahead").inc()
                continue
            ahead[tp] = offset
        if not ahead:
            return
        try:
            await consumer.commit(ahead)
        except Exception as exc:  # rebalanced, not assigned, broker away: commit later or re-process
            log.warning("consumer.commit_failed", group=self.group, error=repr(exc)[:300])
            settle = time.monotonic() + 2 * self.tuning.heartbeat_interval_ms / 1000
            for tp, offset in ahead.items():
                self.deferred[tp] = (offset, settle)
            return
        self.committed.update(ahead)

    # --- rebalances ---------------------------------------------------------------------------------------

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Before the partitions go: commit what was done on them (still ours in this generation)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush_staged(only=partitions), timeout=5)
        for tp in partitions:
            self.forget(tp)

    def assigned(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self.owned.add(tp)
            self.committed.pop(tp, None)  # read again before the first commit
            self.paused.pop(tp, None)
            self.position.pop(tp, None)
        log.info("consumer.assigned", group=self.group, partitions=len(self.owned))

    def forget(self, tp: TopicPartition) -> None:
        self.owned.discard(tp)
        self.staged.pop(tp, None)
        self.epoch[tp] += 1
        self.committed.pop(tp, None)
        self.paused.pop(tp, None)
        self.transient_failures.pop(tp, None)
        self.position.pop(tp, None)
        for key in [k for k in self.attempts if k[0] == tp]:
            del self.attempts[key]
        with contextlib.suppress(KeyError):
            CONSUMER_LAG.remove(self.service, self.group, tp.topic, str(tp.partition))
        CONSUMER_PAUSED.labels(self.service, self.group).set(len(self.paused))

    def update_gauges(self) -> None:
        now = time.monotonic()
        if self.consumer is None or now - self.lag_updated < 1:
            return
        self.lag_updated = now
        for tp in self.owned:
            highwater = self.consumer.highwater(tp)
            position = self.position.get(tp, self.committed.get(tp))
            if highwater is not None and position is not None:
                CONSUMER_LAG.labels(self.service, self.group, tp.topic, str(tp.partition)).set(
                    max(0, highwater - position)
                )
