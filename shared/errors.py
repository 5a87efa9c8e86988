"""The errors a handler raises to tell the consumer what to do with a message.

They live here, not in the consumer middleware, so that use cases and rules can say "this message
can never succeed" or "try this again later" without importing anything from messaging.
"""

from __future__ import annotations


class InvalidMessage(Exception):
    """A message no retry can fix: it is dead-lettered with this reason (field and why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """Handle this message again after `delay` seconds, through the queue's retry queues.

    `counts_as_attempt=False` is for waits that are nobody's failure (a provider's rate limit, a
    handler that keeps its own attempt count): they never exhaust the consumer's retry budget,
    so the handler must bound them itself.
    """

    def __init__(
        self, delay: float, *, reason: str = "retry later", counts_as_attempt: bool = True
    ) -> None:
        super().__init__(reason)
        self.delay = max(0.0, float(delay))
        self.reason = reason
        self.counts_as_attempt = counts_as_attempt
