"""Dispatch's domain modules are pure: no web framework, database, broker or HTTP client."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "services.dispatch.lifecycle",
    "services.dispatch.leases",
    "services.dispatch.returns",
    "services.dispatch.extensions",
    "services.dispatch.escalation",
    "services.dispatch.summons",
]
FRAMEWORKS = ["fastapi", "starlette", "jwt", "httpx", "sqlalchemy", "aiokafka", "asyncpg"]


def test_dispatch_rules_import_no_framework() -> None:
    probe = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
