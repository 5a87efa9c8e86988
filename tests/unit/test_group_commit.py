"""Group commit (shared/persistence/batching.py): concurrent requests share one write, each
learns its own outcome, and a lone request is written at once."""

from __future__ import annotations

import asyncio

import pytest

from shared.persistence.batching import GroupCommit


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        await self.gate.wait()
        return [ValueError(f"odd {n}") if n % 2 else n * 10 for n in items]


async def test_requests_that_arrive_while_a_write_is_in_flight_go_together() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.write, max_batch=100)
    recorder.gate.clear()
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)  # the first write starts and waits at the gate
    rest = [asyncio.create_task(group.submit(n)) for n in (2, 4, 6)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == 0
    assert [await task for task in rest] == [20, 40, 60]
    assert recorder.batches == [[0], [2, 4, 6]]


async def test_each_request_gets_its_own_failure_and_a_lone_one_is_written_at_once() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.write, max_batch=100)
    results = await asyncio.gather(*(group.submit(n) for n in (1, 2)), return_exceptions=True)
    assert isinstance(results[0], ValueError) and results[1] == 20
    assert await group.submit(8) == 80
    assert recorder.batches[-1] == [8]


async def test_a_failed_write_fails_its_whole_batch_and_the_next_batch_still_goes() -> None:
    calls: list[list[int]] = []

    async def write(items: list[int]) -> list[int | BaseException]:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("server gone")
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write, max_batch=100)
    with pytest.raises(ConnectionError):
        await group.submit(1)
    assert await group.submit(2) == 2


async def test_a_cancelled_caller_does_not_cancel_the_write_of_its_batch() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.write, max_batch=100)
    recorder.gate.clear()
    caller = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    caller.cancel()
    recorder.gate.set()
    await group.drain()
    assert recorder.batches == [[2]]


async def test_batches_are_capped() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.write, max_batch=2)
    await asyncio.gather(*(group.submit(n) for n in (0, 2, 4, 6, 8)))
    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]
