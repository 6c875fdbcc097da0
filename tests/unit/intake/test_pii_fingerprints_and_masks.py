"""Fingerprints of what residents filed are keyed, survive a key rotation, and phone numbers of every
shape are masked so that a number cannot be read back from an answer."""

from __future__ import annotations

import hashlib

import pytest

from services.intake.drafts import Draft
from services.intake.pii import PiiCipher, mask_phone, new_key


def draft(**changes: object) -> Draft:
    values: dict[str, object] = dict(
        source="hotline", category="noise", description="深夜施工", phone="13800138000", name="张三"
    )
    return Draft(**(values | changes))  # type: ignore[arg-type]


def test_the_fingerprint_is_an_hmac_not_a_bare_hash_of_the_residents_details() -> None:
    content = draft().content()
    one, other = PiiCipher([new_key()]), PiiCipher([new_key()])
    assert one.fingerprint(content) != hashlib.sha256(content).hexdigest()
    assert one.fingerprint(content) != other.fingerprint(content)  # nobody without the key can recompute it
    assert one.fingerprint(content) == one.fingerprint(draft().content())
    assert len(one.fingerprint(content)) == 64  # fits the stored column


def test_a_repeat_is_recognised_after_a_key_rotation_and_from_rows_of_before() -> None:
    old, new = new_key(), new_key()
    before = PiiCipher([old]).fingerprint(draft().content())
    rotated = PiiCipher([new, old])
    assert rotated.same_fingerprint(draft().content(), before)
    assert rotated.same_fingerprint(draft().content(), hashlib.sha256(draft().content()).hexdigest())
    assert not rotated.same_fingerprint(draft(phone="13900139000").content(), before)
    assert not PiiCipher([new]).same_fingerprint(draft().content(), before)  # the old key dropped


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138-0013-8000", "138****8000"),
        ("008613800138000", "138****8000"),
        ("010-65123456", "010-******56"),
        ("(010) 6512 3456", "010-******56"),
        ("0571 8765 4321", "0571-******21"),
        ("02087654321", "020-******21"),
        ("65123456", "******56"),
        ("12345", "*****"),
        ("110", "***"),
        ("9", "***"),
    ],
)
def test_phones_of_every_shape_are_masked(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["13800138000", "010-65123456", "0571 8765 4321", "65123456", "12345"])
def test_no_more_than_half_of_a_numbers_digits_stay_readable(phone: str) -> None:
    digits = sum(c.isdigit() for c in phone)
    shown = mask_phone(phone) or ""
    assert sum(c.isdigit() for c in shown) <= (digits + 1) // 2 + 1
