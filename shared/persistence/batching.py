"""Group commit: concurrent requests for the same kind of write share one round trip.

Each caller submits its item and waits for its own outcome. While one batch is being written,
the items submitted meanwhile wait together and go as the next batch — nobody waits for a timer,
so a lone request costs one round trip as before, and many concurrent ones cost one each batch.

Measured on SecantusDB with journaled writes (bench/coalescing.py): with 8 or more requests in
flight, grouped inserts ran 2.6–3.4× and grouped reads by `_id` 2.8–4.8× the individual rate;
updates only 1.1–1.3×; a lone request 3–7 % slower.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence


class GroupCommit[T, R]:
    """`submit(item)` returns what `write(batch)` gave for that item (or raises what it gave).

    `write` receives every item waiting, in submission order, and returns one outcome per item:
    a result, or an exception for that item alone. An exception raised by `write` itself fails
    the whole batch.
    """

    def __init__(
        self, write: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]], *, max_batch: int
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="group-commit")
        # The write goes on if this caller is cancelled: the others in its batch wait for it.
        return await asyncio.shield(done)

    async def drain(self) -> None:
        """Wait until everything submitted so far is written."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write_all(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: len(batch)]
            try:
                outcomes = await self._write([item for item, _ in batch])
            except BaseException as error:  # the whole batch failed; each caller learns why
                for _, done in batch:
                    if done.done():
                        continue
                    if isinstance(error, asyncio.CancelledError):
                        done.cancel()
                    else:
                        done.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if isinstance(outcome, BaseException):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)
