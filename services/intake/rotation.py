"""Re-encrypt residents' data under the newest PII key, so an old key can be retired.

Run with the new key first in `INTAKE_PII_KEYS` and the old one after it:
`python -m services.intake.rotation`.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Complaint
from services.intake.pii import PiiCipher
from services.intake.settings import IntakeSettings
from shared.db import create_engine, sessionmaker

ENCRYPTED = ("reporter_name", "reporter_phone", "reporter_email", "address_enc")


async def rotate_all(session: AsyncSession, cipher: PiiCipher, *, batch: int = 500) -> int:
    """Re-encrypt every complaint's residents' data under the cipher's first key; the rows done."""
    done, after = 0, ""
    columns = [getattr(Complaint, name) for name in ENCRYPTED]
    while True:
        rows = (
            await session.execute(
                select(Complaint.id, *columns).where(Complaint.id > after).order_by(Complaint.id).limit(batch)
            )
        ).all()
        if not rows:
            return done
        for row in rows:
            values = {name: cipher.rotate(getattr(row, name)) for name in ENCRYPTED}
            await session.execute(update(Complaint).where(Complaint.id == row.id).values(**values))
        done += len(rows)
        after = rows[-1].id


async def main() -> None:
    settings = IntakeSettings()
    engine = create_engine(settings.db_url, pool_size=1)
    async with sessionmaker(engine)() as session, session.begin():
        count = await rotate_all(session, PiiCipher(settings.pii_keys))
    await engine.dispose()
    print(f"re-encrypted the residents' data of {count} complaints under the first key")


if __name__ == "__main__":
    asyncio.run(main())
