"""How many failed sign-ins one username may have from one address.

aiolimiter's leaky bucket, one per username and address: each failure takes a unit, which
drains at the bucket's rate; a full bucket is answered 429 before any password is checked (which
costs 64 MiB and tens of milliseconds each). Kept per replica, in memory, at most `KEYS` buckets
(the least recently used go first): with N replicas an attacker gets N times the attempts, which
still turns a guessing attack from millions of tries an hour into dozens per account.

No bucket per address alone: behind an ingress whose address uvicorn is not told to trust
(FORWARDED_ALLOW_IPS), every caller has the ingress's address, and such a bucket would let
anyone lock everyone out. The address is the caller's only where that variable names the proxy.
"""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

PER_ACCOUNT = (5, 300.0)
"""5 failures per username and address, then one more every minute."""
KEYS = 10_000


class SignInThrottle:
    def __init__(self, rate: tuple[int, float] = PER_ACCOUNT) -> None:
        self.rate = rate
        self.buckets: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()

    def refuses(self, username: str, address: str) -> bool:
        bucket = self.buckets.get((username, address))
        return bucket is not None and not bucket.has_capacity()

    async def failed(self, username: str, address: str) -> None:
        key = (username, address)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = AsyncLimiter(*self.rate)
            if len(self.buckets) > KEYS:
                self.buckets.popitem(last=False)
        self.buckets.move_to_end(key)
        if bucket.has_capacity():
            await bucket.acquire()  # capacity is there: returns at once
