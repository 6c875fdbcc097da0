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
    db_pool_size: int = Field(default=10, ge=1)
    outbox_batch_size: int = Field(default=200, ge=1)
    outbox_poll_seconds: float = Field(default=0.05, gt=0)
    outbox_max_backoff_seconds: float = Field(default=5.0, gt=0)
    consumer_max_attempts: int = Field(default=3, ge=1)
    consumer_retry_seconds: float = Field(default=0.2, ge=0)
    registry_url: str = "http://127.0.0.1:8001"
    # The service's own client at the registry (to read the snapshot); none: ask without a token.
    registry_client_id: str | None = None
    registry_client_secret: str | None = None
    log_level: str = "INFO"

    @property
    def db_url(self) -> str:
        return self.database_url or self.infra.database_url

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or self.infra.kafka_bootstrap_servers
