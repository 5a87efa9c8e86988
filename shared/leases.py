"""Which replica runs a periodic pass (`shared.periodic.Periodic`): the holder of its lease.

A service scaled to several replicas (by hand, or by KEDA on queue depth) runs every background
pass — the seat reconciler, notification's scheduler, reporting's follow-ups — in each of them.
Those passes are safe to run twice (their claims are atomic), but N replicas would do N times the
database work for nothing, and a pass that checks then acts (the final Memoria) could do its
work twice. So one replica holds the pass's lease and runs it; the others skip. The holder renews
the lease once half its `ttl` has gone by (not on every pass: a pass run every second would
otherwise cost a write a second per replica), and a replica refused asks again only after half a
`ttl`; a lease not renewed within `ttl` (the holder killed, its database unreachable) goes to the
next replica that asks — within one and a half `ttl` — and a replica stopping gracefully gives
its leases back at once.

One small document per pass, in the service's own database (`leases`): a renewal is one update.
Clocks: expiry is written by the holder's clock and read by the others', so `ttl` must exceed
the replicas' clock skew (well under a second in any cluster with NTP).

The holder is named by host and port: a replica restarted in place (kill -9, a container
restart) is the same holder and takes its pass back at once, without waiting for the lease to lapse.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

LEASES_COLLECTION = "leases"
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Lease:
    def __init__(
        self,
        collection: AsyncCollection,
        name: str,
        *,
        ttl: float,
        holder: str,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.collection = collection
        self.name = name
        self.ttl = timedelta(seconds=ttl)
        self.holder = holder
        self.clock = clock
        self.held = False
        self._next_ask = NEVER  # until then, what the last answer said stands

    @classmethod
    def for_pass(
        cls, database: AsyncDatabase, name: str, interval: float, *, port: int, grace: float = 10.0
    ) -> Lease:
        """The lease of a pass run every `interval` seconds by the replica serving on `port`:
        it lasts one interval and a grace, and is renewed at the first pass after half of that;
        a dead holder's pass moves to another replica within one and a half of that."""
        return cls(
            database[LEASES_COLLECTION],
            name,
            ttl=interval + grace,
            holder=f"{socket.gethostname()}:{port}",
        )

    async def hold(self) -> bool:
        """Take or renew the lease; whether this process holds it. The database is asked at
        most once per half `ttl`: in between, a holder still holds it (for at least half a
        `ttl` more) and another replica still does not."""
        now = self.clock()
        if now < self._next_ask:
            return self.held
        try:
            # Matches when this process holds it or it has expired; otherwise the upsert's insert
            # meets the other holder's document and fails on `_id`: someone else holds it.
            await self.collection.update_one(
                {
                    "_id": self.name,
                    "$or": [{"holder": self.holder}, {"expires_at": {"$lte": now}}],
                },
                {"$set": {"holder": self.holder, "expires_at": now + self.ttl, "renewed_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            self.held = False
        else:
            self.held = True
        self._next_ask = now + self.ttl / 2
        return self.held

    async def release(self) -> None:
        """Give the lease back (a graceful stop): another replica takes it when it next asks
        (within half a `ttl`), not after the whole `ttl`."""
        if self.held:
            self.held, self._next_ask = False, NEVER
            await self.collection.update_one(
                {"_id": self.name, "holder": self.holder}, {"$set": {"expires_at": NEVER}}
            )
