from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "intake"
    port: int = 8002
    # Fernet keys for residents' names and phones; the first encrypts, all decrypt (rotation).
    pii_keys: list[str] = Field(min_length=1)

    @field_validator("pii_keys")
    @classmethod
    def _no_placeholders(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if key.lower() in {"", "changeme", "change-me", "secret"}:
                raise ValueError("INTAKE_PII_KEYS holds a placeholder: generate a key with `whistle pii-key`")
        return keys
