"""Typed settings. Each service subclasses `ServiceSettings` with its own env prefix.

The infrastructure addresses are shared by all services and read without a prefix
(`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`); a service may override them with its prefixed name
(`INTAKE_DATABASE_URL`) to run on its own database.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:15432/whistle"
DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


class InfraSettings(BaseSettings):
    """The servers the whole stack shares, read from unprefixed variables."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    kafka_bootstrap_servers: str = DEFAULT_BOOTSTRAP
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication: int = Field(default=1, ge=1)


class ServiceSettings(BaseSettings):
    """What every service needs. Subclasses set `service_name`, `port` and an env prefix."""

    model_config = SettingsConfigDict(env_prefix="WHISTLE_", extra="ignore")

    service_name: str = "whistle"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    infra: InfraSettings = Field(default_factory=InfraSettings)
    db_pool_size: int = Field(default=20, ge=1)
    # Every session: a statement running longer, or a transaction left idle longer, is ended by the
    # server (a frozen process cannot hold locks for ever). 0 turns either off.
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    db_idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_idle_poll_seconds: float = Field(default=2.0, gt=0)
    # After a commit wakes the relay it waits this long, so a busy moment's events share a batch.
    outbox_linger_seconds: float = Field(default=0.1, ge=0)
    outbox_max_backoff_seconds: float = Field(default=5.0, gt=0)
    max_message_bytes: int = Field(default=1_000_000, ge=1024)  # larger events are set aside
    consumer_max_attempts: int = Field(default=5, ge=1)  # for errors neither transient nor permanent
    consumer_retry_base_seconds: float = Field(default=0.5, gt=0)
    consumer_retry_max_seconds: float = Field(default=30.0, gt=0)
    consumer_fetch_wait_ms: int = Field(default=300, ge=0)  # the broker holds an empty fetch this long
    consumer_commit_interval_seconds: float = Field(default=1.0, ge=0)
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1000)
    consumer_heartbeat_interval_ms: int = Field(default=1_000, ge=100)
    consumer_max_poll_interval_ms: int = Field(default=300_000, ge=1000)
    consumer_request_timeout_ms: int = Field(default=40_000, ge=1000)
    # A background task down (failing) longer than this turns /healthz red.
    task_down_grace_seconds: float = Field(default=60.0, gt=0)
    task_stable_seconds: float = Field(default=30.0, gt=0)
    # Sent outbox rows and inbox rows are deleted after this many days, in small batches.
    retention_days: float = Field(default=7.0, gt=0)
    prune_interval_seconds: float = Field(default=3600.0, gt=0)
    registry_url: str = "http://127.0.0.1:8001"
    # The service's own client at the registry (to read the snapshot); none: ask without a token.
    registry_client_id: str | None = None
    registry_client_secret: str | None = None
    log_level: str = "INFO"
    # Request bodies larger than this are refused with 413 before they are read (a city's largest
    # polygon write fits).
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    # Writes per second and burst by client kind, e.g. {"hotline": [2500, 5000]} (`shared.rate_limit`).
    write_rates: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.database_url or self.infra.database_url

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or self.infra.kafka_bootstrap_servers
