"""Intake's settings (env prefix `INTAKE_`)."""

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "intake"
    port: int = 8002
    # uvicorn worker processes serving intake (each with its own pool, relay and consumers).
    workers: int = Field(default=1, ge=1, le=32)
    # False: this replica serves HTTP only and leaves dispatch/SLA events to the others (its
    # outbox relay still runs), so the front door can scale apart from event handling.
    consume_events: bool = True
    # Fernet keys for residents' data; the first encrypts, all decrypt (rotation).
    pii_keys: list[str] = Field(min_length=1)
    # Request bodies larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # A new complaint of the same category this close to an open one, this soon after it, is
    # merged into it (e.g. INTAKE_MERGE_DISTANCE_METERS=50). 0, the default, leaves merging off:
    # clients that file the same complaint twice on purpose (tests, drills) get two dispatches.
    merge_distance_meters: float = Field(default=0.0, ge=0)
    merge_window_hours: float = Field(default=24.0, gt=0)
    # Open311: the jurisdiction this endpoint serves (default: the city's code) and its contact.
    open311_jurisdiction_id: str | None = None
    open311_contact: str = "12345 citizen hotline"
    # Open311 request reads (`requests`, `requests/{id}`, `servicerequestupdates`) need a hotline
    # client's api_key unless the city turns public reads on; then a read without a key gets the
    # public view (no free text, no media, positions at the community's representative point).
    open311_public_reads: bool = False
    # Open311 searches and the update stream stop this many seconds before now, so a change whose
    # transaction commits late cannot fall behind a window a client already read.
    open311_settle_seconds: float = Field(default=5.0, ge=0, le=300)
    # Datetimes shown to Open311 clients are in the city's time zone.
    timezone: str = "Asia/Shanghai"

    @field_validator("pii_keys")
    @classmethod
    def _no_placeholders(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if key.lower() in {"", "changeme", "change-me", "secret"}:
                raise ValueError("INTAKE_PII_KEYS holds a placeholder: generate a key with `whistle pii-key`")
        return keys
