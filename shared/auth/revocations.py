"""Revoked access tokens, one by one.

Registration publishes `access.revoked` (token id, expiry) through its outbox; every service
consumes it into its own collection `revoked_tokens` (a TTL index drops an entry once the token
has expired anyway), and each replica's verifier holds the ids in memory, refreshed from that
collection every few seconds: a revocation takes effect within seconds on every replica, and no
request waits on the database.
"""

from __future__ import annotations

from collections.abc import Iterable


class RevocationSet:
    """The revoked token ids a verifier refuses (`token_id in revoked`)."""

    def __init__(self, token_ids: Iterable[str] = ()) -> None:
        self._ids: frozenset[str] = frozenset(token_ids)
        self.refreshes = 0  # completed refreshes; tests wait on it instead of sleeping

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def replace(self, token_ids: Iterable[str]) -> None:
        """Swap in a new set at once (readers never see a half-built one)."""
        self._ids = frozenset(token_ids)
        self.refreshes += 1

    def add(self, token_id: str) -> None:
        """Refuse `token_id` from now on in this process (the consumer's own replica does not
        wait for the next refresh)."""
        self._ids = self._ids | {token_id}
