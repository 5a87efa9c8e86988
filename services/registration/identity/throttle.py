"""How many failed sign-ins one username may have from one address.

aiolimiter's leaky bucket, one per username and address: each failure takes a unit, which
drains at the bucket's rate; a full bucket is answered 429 before any password is checked (which
costs 64 MiB and tens of milliseconds each). Kept per replica, in memory, at most `KEYS` buckets
(the least recently used go first): with N replicas an attacker gets N times the attempts, which
still turns a guessing attack from millions of tries an hour into dozens per account.

No bucket per address alone: behind a proxy (the web pages, an ingress) every caller would have
the proxy's address, and such a bucket would let anyone lock everyone out.

Behind the web pages every sign-in comes from the web's address, so the address that counts is
the browser's: `client_address` takes it from `X-Forwarded-For` only when the direct peer is a
trusted proxy (REGISTRATION_TRUSTED_PROXIES, addresses or networks; none by default), walking the
header from the right past every trusted hop, so a caller cannot choose its own address by
sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Sequence

from aiolimiter import AsyncLimiter

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(text: str, proxies: Sequence[Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The address a sign-in counts against: the direct peer's, unless that peer is a trusted
    proxy; then the right-most `X-Forwarded-For` entry that is not itself a trusted proxy (the
    left-most when every one is). An entry that is not an address ends the walk (a proxy we
    trust wrote nothing like it), and the last trusted hop's address counts."""
    if not proxies or not forwarded_for or not _trusted(peer, proxies):
        return peer
    address = peer
    for hop in reversed(forwarded_for.split(",")):
        found = _address(hop)
        if found is None:
            break
        address = str(found)
        if not _trusted(address, proxies):
            break
    return address
