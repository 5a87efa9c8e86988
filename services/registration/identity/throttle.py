"""How many failed sign-ins an address may make: per username and address, and per address.

aiolimiter's leaky bucket, one per key: each failure takes a unit, which drains at the bucket's
rate; a key whose bucket is full is answered 429 before any password is checked (which costs 64
MiB and tens of milliseconds each). Kept per replica, in memory, at most `KEYS` buckets each
(the least recently used go first): with N replicas an attacker gets N times the attempts, which
still turns a guessing attack from millions of tries an hour into dozens.
"""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

PER_ACCOUNT = (5, 300.0)
"""5 failures per username and address, then one more every minute."""
PER_ADDRESS = (50, 300.0)
"""50 failures per address, whatever the usernames, then one more every 6 seconds."""
KEYS = 10_000


class _Buckets:
    def __init__(self, rate: tuple[int, float]) -> None:
        self.rate = rate
        self.buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def full(self, key: str) -> bool:
        bucket = self.buckets.get(key)
        return bucket is not None and not bucket.has_capacity()

    async def fail(self, key: str) -> None:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = AsyncLimiter(*self.rate)
            if len(self.buckets) > KEYS:
                self.buckets.popitem(last=False)
        self.buckets.move_to_end(key)
        if bucket.has_capacity():
            await bucket.acquire()  # capacity is there: returns at once


class SignInThrottle:
    def __init__(
        self,
        per_account: tuple[int, float] = PER_ACCOUNT,
        per_address: tuple[int, float] = PER_ADDRESS,
    ) -> None:
        self.accounts = _Buckets(per_account)
        self.addresses = _Buckets(per_address)

    def refuses(self, username: str, address: str) -> bool:
        return self.accounts.full(f"{username}\n{address}") or self.addresses.full(address)

    async def failed(self, username: str, address: str) -> None:
        await self.accounts.fail(f"{username}\n{address}")
        await self.addresses.fail(address)
