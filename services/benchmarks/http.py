"""A keep-alive HTTP/1.1 connection for load generators: plain requests and `Content-Length`
answers over one socket, spending as little of the machine as it can on the client side."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import orjson


class Connection:
    """One worker's connection to a service, authenticated with a bearer token."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST a JSON body; the status and the decoded JSON answer. An idle connection the server
        closed is opened again once."""
        payload = orjson.dumps(body)
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        for attempt in (1, 2):
            try:
                if self._writer is None:
                    await self._open()
                assert self._reader is not None and self._writer is not None
                self._writer.write(request)
                status, answer = await read_response(self._reader)
                return status, orjson.loads(answer) if answer else None
            except (OSError, asyncio.IncompleteReadError, ValueError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)
