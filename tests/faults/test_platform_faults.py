"""Issue 10's fault suite: the platform as real OS processes, one fault per run, and the
accounting of what reached people (see tests/support/faults.py).

Every run publishes N sign-ups (business associations: confirmed at once, badge issued) at a steady
rate as a form vendor does, does its fault half-way, and then expects the guarantee: every person
gets their confirmation and their badge e-mail exactly once, no dead letter, nothing stuck, all of
it within 30 s of the fault's end. A failing run prints its accounting row, the missing and
duplicated e-mails, the dead letters with their reasons and the services' warnings.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import pytest

from tests.support.faults import ALL_SERVICES, Accounting, Platform

pytestmark = pytest.mark.faults

N = 30
RATE = 10.0  # sign-ups per second: the stream lasts 3 s, the fault lands in its middle


async def finish(stream: asyncio.Task[None], timeout: float = 120.0) -> None:
    await asyncio.wait_for(stream, timeout)


async def test_baseline(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    stream = running.stream(N, RATE)
    await finish(stream)
    accounting = await running.account("1 baseline", time.monotonic())
    report(accounting)
    accounting.assert_guarantees()
    assert accounting.participants == {"confirmed": N}, accounting.explain()


async def test_registration_killed_mid_stream(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    stream = running.stream(N, RATE)
    await running.vendor.reached(N // 2)
    await running.kill9("registration")
    running.start_services("registration")
    fault_end = time.monotonic()
    await finish(stream)
    await running.ready("registration")
    accounting = await running.account("2 kill -9 registration", fault_end)
    report(accounting)
    accounting.assert_guarantees()


async def test_notification_killed_mid_send(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    stream = running.stream(N, RATE)

    async def sending() -> bool:
        _, total, _ = await asyncio.to_thread(running.mail_counts)
        return total >= N // 2

    from tests.support.bus import eventually

    await eventually(sending, 60, "notification to be sending")
    await running.kill9("notification")
    running.start_services("notification")
    fault_end = time.monotonic()
    await finish(stream)
    await running.ready("notification")
    accounting = await running.account("3 kill -9 notification", fault_end)
    report(accounting)
    # The documented window: a crash after the SMTP server accepted and before the record; the copy
    # carries the same Message-ID. One delivery in flight per worker: at most one such copy.
    accounting.assert_guarantees(same_id_copies=1)


async def test_broker_connections_cut_twice(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    stream = running.stream(N, RATE)
    # First cut: the broker closes the services' connections (connection.close, by name).
    await running.vendor.reached(N // 3)
    closed = await running.admin.close_connections(running.connection_prefix())
    assert closed >= len(running.services), (
        f"only {closed} connections named {running.connection_prefix()}*"
    )
    # Second cut: the network resets every connection (RST through the proxy).
    await running.vendor.reached(2 * N // 3)
    before = running.broker_proxy.accepted
    running.broker_proxy.drop()
    running.broker_proxy.pass_through()
    fault_end = time.monotonic()
    await finish(stream)
    accounting = await running.account("4 broker connections cut ×2", fault_end)
    accounting.notes.append(
        f"cut 1 closed {closed} connections; reconnections through the proxy since cut 2: "
        f"{running.broker_proxy.accepted - before}"
    )
    report(accounting)
    accounting.assert_guarantees()


@pytest.mark.parametrize("link", ["broker", "database"])
async def test_network_blackhole_for_10_seconds(
    link: str, platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    proxy = running.broker_proxy if link == "broker" else running.mongo_proxy
    stream = running.stream(N, RATE)
    await running.vendor.reached(N // 2)
    proxy.blackhole()
    await asyncio.sleep(10)  # the fault's duration
    proxy.pass_through()
    fault_end = time.monotonic()
    await finish(stream)
    accounting = await running.account(f"5 blackhole {link} 10s", fault_end)
    report(accounting)
    accounting.assert_guarantees()


async def test_database_killed_and_restarted(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    stream = running.stream(N, RATE)
    await running.vendor.reached(N // 2)
    await running.database.kill9()
    running.database.start()  # same storage path, same port
    await running.database.ready()
    fault_end = time.monotonic()
    await finish(stream)
    accounting = await running.account("6 kill -9 database", fault_end)
    report(accounting)
    accounting.assert_guarantees()


async def test_every_service_stopped_mid_stream_and_started_again(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform(services=ALL_SERVICES)
    stream = running.stream(N, RATE)
    await running.vendor.reached(N // 2)
    codes = await running.sigterm()
    running.start_services()
    fault_end = time.monotonic()
    await finish(stream)
    await running.ready()
    accounting = await running.account("7 SIGTERM all, start again", fault_end)
    accounting.notes.append(f"exit codes after SIGTERM: {codes}")
    report(accounting)
    assert all(code is not None for code in codes.values()), (
        f"a service ignored SIGTERM for 40 s: {codes}"
    )
    accounting.assert_guarantees()


async def test_poison_messages_are_dead_lettered_and_good_ones_flow(
    platform: Callable[..., Platform], report: Callable[[Accounting], None]
) -> None:
    running = await platform()
    good = running.signups(N)
    poison = [
        (b"\xff\xfe not json", "application/json"),
        (
            json.dumps(
                {"event_type": "registration.submitted", "event_id": str(uuid.uuid4())}
            ).encode(),
            "application/json",
        ),
        (b"<signup/>", "application/xml"),
    ]
    every = N // len(poison)
    started = time.monotonic()
    for index, body in enumerate(good):
        if (wait := started + index / RATE - time.monotonic()) > 0:
            await asyncio.sleep(wait)  # the vendor's pace
        await running.vendor.publish(body)
        if index % every == every // 2 and poison:
            payload, content_type = poison.pop(0)
            await running.vendor.publish_raw(payload, str(uuid.uuid4()), content_type)
    accounting = await running.account("8 poison interleaved", time.monotonic())
    report(accounting)
    accounting.assert_guarantees(dlq=3)
    # Each poison message is in registration's intake DLQ with a reason naming what is wrong.
    assert len(accounting.dlq_reasons) == 3, accounting.explain()
    assert all(".registration." in r and "reason=?" not in r for r in accounting.dlq_reasons), (
        accounting.explain()
    )
    reasons = "\n".join(accounting.dlq_reasons)
    assert "not valid JSON" in reasons, reasons
    assert "content_type" in reasons, reasons
    assert "Field required" in reasons or "field required" in reasons.lower(), reasons
