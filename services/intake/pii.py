"""Residents' names and phones: encrypted at rest, masked everywhere but the audited contact read."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet


class PiiCipher:
    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes | None) -> str | None:
        return None if token is None else self._fernet.decrypt(token).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)
