"""structlog set-up: JSON lines on stdout, dotted event names, correlation id bound per message.

structlog's own loggers render with orjson and write bytes straight to stdout (no stdlib logging
on the way: logging is on every hot path). Standard-library loggers (uvicorn, aiokafka, alembic) go
through the same processors, so every line a service prints is one JSON object.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send structlog and stdlib logging to stdout as JSON, tagged with the service name."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.BytesLoggerFactory(_Stdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


class _Stdout:
    """Whatever `sys.stdout` is at the time of writing (test runners swap it)."""

    def write(self, data: bytes) -> None:
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            out.flush()  # keep the order with text written through the stream itself
            buffer.write(data)
        else:
            out.write(data.decode(errors="replace"))

    def flush(self) -> None:
        sys.stdout.flush()


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
