"""Residents' names, phones, emails and address text: encrypted at rest, masked in every answer
but the audited contact read, and never put on Kafka, in a log line or in a metric label.

Keys are Fernet keys (`whistle pii-key`). `INTAKE_PII_KEYS` lists them newest first: the first
encrypts, every one decrypts, so a new key is rolled in by putting it first and old rows are
re-encrypted under it with `rotate` (see rotation.py) before the old key is dropped.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet


class PiiCipher:
    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes | None) -> str | None:
        return None if token is None else self._fernet.decrypt(token).decode()

    def rotate(self, token: bytes | None) -> bytes | None:
        """The same value encrypted under the newest key."""
        return None if token is None else self._fernet.rotate(token)


def new_key() -> str:
    return Fernet.generate_key().decode()


def mask_phone(phone: str | None) -> str | None:
    """`13800138000` → `138****8000`; short numbers are hidden whole."""
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    """`张三` → `张*`."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_email(email: str | None) -> str | None:
    """`zhang.san@example.cn` → `z***@example.cn`."""
    if not email:
        return email
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def mask_address(address: str | None) -> str | None:
    """Only the first few characters (the district or street a resident named) stay readable."""
    if not address:
        return address
    keep = min(6, len(address) // 3)
    return address[:keep] + "*" * min(8, len(address) - keep)
