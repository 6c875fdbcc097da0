"""Which database errors are the client's fault (422) rather than ours (500) or transient (503)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.problems import names_nothing, unstorable_text


def wrapped(error: Exception) -> DBAPIError:
    """As SQLAlchemy's asyncpg dialect raises it: the driver's error as the cause of the adapted one."""
    adapted = Exception("adapted")
    adapted.__cause__ = error
    return IntegrityError("UPDATE …", {}, adapted)


def test_a_foreign_key_violated_names_nothing() -> None:
    assert names_nothing(wrapped(asyncpg.ForeignKeyViolationError("fk_communities_street_code_streets")))
    assert not names_nothing(wrapped(asyncpg.UniqueViolationError("pk")))
    assert not names_nothing(ValueError("x"))


def test_nul_characters_and_unpaired_surrogates_cannot_be_stored() -> None:
    assert unstorable_text(wrapped(asyncpg.CharacterNotInRepertoireError("invalid byte sequence 0x00")))
    assert unstorable_text(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    assert not unstorable_text(wrapped(asyncpg.ForeignKeyViolationError("fk")))
