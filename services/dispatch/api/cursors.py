"""Keyset cursors: the position after (or before) the last item of a page, over the page's order."""

from __future__ import annotations

import base64
from datetime import datetime

from shared.errors import Unprocessable


def encode(at: datetime, key: str | int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{key}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, key = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if not key or moment.tzinfo is None:
            raise ValueError(raw)
        return moment, key
    except ValueError:
        raise Unprocessable(
            "The cursor is not valid.",
            errors=[
                {"field": "query.cursor", "message": "use next_cursor of the previous page", "type": "cursor"}
            ],
        ) from None


def decode_int(cursor: str | None) -> tuple[datetime, int] | None:
    position = decode(cursor)
    if position is None:
        return None
    try:
        return position[0], int(position[1])
    except ValueError:
        raise Unprocessable(
            "The cursor is not valid.",
            errors=[
                {"field": "query.cursor", "message": "use next_cursor of the previous page", "type": "cursor"}
            ],
        ) from None
