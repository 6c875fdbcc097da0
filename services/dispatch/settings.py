from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    service_name: str = "dispatch"
    port: int = 8003
    # Answers kept for writes sent with an Idempotency-Key are forgotten after this many hours.
    idempotency_hours: float = Field(default=48.0, gt=0)
