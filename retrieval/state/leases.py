"""Leases in the state database: at most one holder of a name at a time, for as long as it
keeps renewing; when the holder dies, the lease expires and another process takes it over.

Used for the one scheduler among replicas. Expiry compares wall clocks (time.time()) of the
replicas, which NTP keeps within far less than a lease's seconds."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError

from retrieval.state.database import Database, leases


class Leases:
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self._database = database
        self._clock = clock

    def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew `name` for `seconds` from now; False while another holder has it."""
        now = self._clock()
        try:
            with self._database.transaction() as connection:
                renewed = connection.execute(
                    update(leases)
                    .where(
                        leases.c.name == name,
                        or_(leases.c.holder == holder, leases.c.expires_at < now),
                    )
                    .values(holder=holder, expires_at=now + seconds)
                )
                if renewed.rowcount:
                    return True
                connection.execute(
                    insert(leases).values(name=name, holder=holder, expires_at=now + seconds)
                )
                return True
        except IntegrityError:  # held by another (the row exists, unexpired), or taken just now
            return False

    def release_all(self, holder: str) -> None:
        """Give up every lease `holder` has (at shutdown)."""
        with self._database.transaction() as connection:
            connection.execute(delete(leases).where(leases.c.holder == holder))

    def release(self, name: str, holder: str) -> None:
        """Give `name` up at once (a clean shutdown), so another takes over without waiting."""
        with self._database.transaction() as connection:
            connection.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )
