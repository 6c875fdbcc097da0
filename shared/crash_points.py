"""Named points where a process can be made to die at once, as `kill -9` would, so that the fault
suite can stop it at an exact step (between publishing a batch and recording it, say) rather than
hope to hit it. Off unless `WHISTLE_CRASH_AT` names a point; checking one costs a comparison.

Points: `relay.after_publish` (the outbox relay has published a batch, its claim is not committed).
"""

from __future__ import annotations

import os

_ARMED = os.environ.get("WHISTLE_CRASH_AT", "")


def crash_point(name: str) -> None:
    if _ARMED and name == _ARMED:
        os._exit(137)  # no cleanup, no flush: the same as being killed
