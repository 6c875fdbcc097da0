from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    port: int = 8001
    token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    # How stale resolve/route may be after a write through another replica (see SnapshotBuilder).
    snapshot_recheck_seconds: float = Field(default=1.0, ge=0, le=60)
    # Failed token requests allowed per client id (known or unknown) a minute, per replica.
    token_failures_per_minute: int = Field(default=10, ge=1)
