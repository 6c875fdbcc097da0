"""Gauges read from a service's own tables, refreshed by a background job and never on a scrape.

A `CachedGauges` collector holds the last samples its job read (one query per family per refresh,
for every unit at once) and hands them to each scrape as they are, so scrapes cost nothing however
many Prometheus servers or replicas there are. While a refresh fails (the database away) the last
samples stay and the failure is logged; the job keeps running.

`refreshing` makes that job, which also gets to initialise counters' label sets for the city as the
registry's snapshot names it (departments, districts, streets), so a quiet city shows zeros.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, CollectorRegistry

from shared.aio import sleep_unless
from shared.logging import get_logger

if TYPE_CHECKING:
    from shared.runtime import Runtime

log = get_logger(__name__)

Sample = tuple[tuple[str, ...], float]
Refresh = Callable[["Runtime"], Awaitable[None]]
MetricsJob = Callable[["Runtime", asyncio.Event], Awaitable[None]]

STREET_UNITS, BACKSTOP = "street", "backstop"


def department_label(department_code: str | None, role: str | None = None) -> str:
    """The `department` label of a unit's work: its department's code, else `street` for a street's
    own units and `backstop` for a district's backstop (bounded: never a unit's own code)."""
    if department_code:
        return department_code
    return BACKSTOP if role == BACKSTOP else STREET_UNITS


def department_labels(department_codes: Iterable[str]) -> list[str]:
    """Every `department` label value a city has: its departments, street units and backstops."""
    return [*sorted(department_codes), STREET_UNITS, BACKSTOP]


class CachedGauges:
    """A collector of gauge families whose samples a background job replaces whole."""

    def __init__(
        self,
        families: Mapping[str, tuple[str, tuple[str, ...]]],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.families = dict(families)
        self.samples: dict[str, list[Sample]] = {name: [] for name in families}
        if registry is not None:
            registry.register(self)

    def replace(self, name: str, samples: Iterable[Sample]) -> None:
        if name not in self.families:
            raise KeyError(name)
        self.samples[name] = list(samples)

    def describe(self) -> Iterator[Metric]:
        for name, (documentation, labels) in self.families.items():
            yield GaugeMetricFamily(name, documentation, labels=list(labels))

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, labels) in self.families.items():
            family = GaugeMetricFamily(name, documentation, labels=list(labels))
            for values, value in self.samples[name]:
                family.add_metric(list(values), value)
            yield family


def refreshing(name: str, refresh: Refresh, *, every: float) -> MetricsJob:
    """A runtime background job (named `name`) calling `refresh` every `every` seconds."""

    async def job(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await refresh(runtime)
            except Exception as exc:  # the last samples stay; the next round tries again
                log.warning("metrics.refresh_failed", job=name, error=repr(exc)[:300])
            await sleep_unless(stop, every)

    job.__name__ = name
    return job
