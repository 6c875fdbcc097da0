"""Residents' names, phones, emails and address text: encrypted at rest, masked in every answer
but the audited contact read, and never put on Kafka, in a log line or in a metric label.

Keys are Fernet keys (`whistle pii-key`). `INTAKE_PII_KEYS` lists them newest first: the first
encrypts, every one decrypts, so a new key is rolled in by putting it first and old rows are
re-encrypted under it with `rotate` (see rotation.py) before the old key is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FINGERPRINT_INFO = b"whistle intake request fingerprint v1"


def _fingerprint_key(fernet_key: str) -> bytes:
    """A key of its own for fingerprints, derived from a PII key (HKDF-SHA256)."""
    raw = base64.urlsafe_b64decode(fernet_key.encode())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_FINGERPRINT_INFO).derive(raw)


class PiiCipher:
    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._fingerprint_keys = [_fingerprint_key(k) for k in keys]

    def fingerprint(self, content: bytes) -> str:
        """HMAC-SHA256 of what a resident filed, under the newest key: a repeat can be told from a
        different request without the stored digest revealing phone numbers or names to anyone
        who can guess them (a bare hash of an 11-digit number is reversed in minutes)."""
        return hmac.new(self._fingerprint_keys[0], content, hashlib.sha256).hexdigest()

    def same_fingerprint(self, content: bytes, digest: str) -> bool:
        """Whether `digest` was made of `content` under any of the keys (rows filed before a key
        rotation), or is the bare SHA-256 that rows filed before fingerprints were keyed hold."""
        candidates = [hmac.new(k, content, hashlib.sha256).hexdigest() for k in self._fingerprint_keys]
        candidates.append(hashlib.sha256(content).hexdigest())
        return any(hmac.compare_digest(c, digest) for c in candidates)

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
    """Mobiles `13800138000` (also `+86 138-0013-8000`) → `138****8000`; landlines keep their area
    code and last two digits (`010-65123456` → `010-******56`, `0571 8765 4321` → `0571-******21`);
    local numbers only their last two; short numbers (`12345`, `110`) are hidden whole. Never more
    than about half of a number's digits stay readable."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if digits.startswith("0") and len(digits) >= 10:
        area = digits[:3] if digits[1] in "12" else digits[:4]
        rest = digits[len(area) :]
        return f"{area}-{'*' * (len(rest) - 2)}{rest[-2:]}"
    if len(digits) >= 7:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * max(3, len(digits))


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
