"""The fault suite runs on a stack of its own (tests/reliability/harness.py) and prints, at the end,
what became of every scenario's complaints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.polling import eventually
from tests.reliability.harness import PROFILE, SHORT, FaultStack, Hotline, settle
from tests.reliability.results import RESULTS, render


@pytest.fixture(scope="package")
async def fault_stack() -> AsyncIterator[FaultStack]:
    stack = FaultStack()
    try:
        await stack.start()
        # What one complaint comes to when nothing goes wrong: the count every scenario must meet.
        async with Hotline(stack, "calm", rate=5, workers=1) as hotline:

            async def filed() -> bool:
                return bool(hotline.accepted)

            await eventually(filed, seconds=30)
        calm = await settle(stack, hotline.accepted, prefix="calm", per_complaint=1)
        assert calm.lost == 0 and calm.whistles == calm.accepted, calm
        stack.per_complaint = calm.assignments // calm.accepted
        yield stack
    finally:
        await stack.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RESULTS:
        profile = "short" if SHORT else "full"
        terminalreporter.write_sep("=", f"fault scenarios ({profile}: {PROFILE.rate:.0f} complaints/s)")
        for line in render(RESULTS):
            terminalreporter.write_line(line)
