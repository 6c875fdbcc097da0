from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    service_name: str = "sla"
    port: int = 8004
    # The timer sleeps at most this long between rounds (and less when a clock falls due sooner):
    # the bound on how late a warning or breach fires on an idle stack.
    timer_poll_seconds: float = Field(default=0.2, gt=0, le=5)
    timer_batch_size: int = Field(default=500, ge=1)
    # Last month closes on its own from local midnight of this day of the month (1–28).
    close_period_day: int = Field(default=5, ge=1, le=28)
    close_check_seconds: float = Field(default=60.0, gt=0)
