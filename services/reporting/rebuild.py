"""Rebuild the projections from the whole event history: `python -m services.reporting.rebuild`.

Drops `participants`, `entities` and `event_ledger`, then reads the `<ns>.events.log` stream from
its first offset and folds every event with the same code the live consumer uses, until no message
has arrived for `REPORTING_REBUILD_IDLE_SECONDS` (the stream reports no length, so "caught up"
means "quiet"). Conclusions, the action plan, budget records and generated documents are kept;
budget entries from events are re-applied idempotently. Run it with the service stopped, or accept
that events arriving meanwhile are folded twice (harmless: the fold is idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.exceptions import ChannelNotFoundEntity

from services.reporting import handlers
from services.reporting.bootstrap import build_deps
from services.reporting.settings import ReportingSettings
from shared.logging import configure_logging
from shared.messaging.consumer import InvalidMessage
from shared.messaging.topology import Topology
from shared.persistence.mongo import create_mongo_client

log = structlog.get_logger("foro.reporting.rebuild")


@dataclass
class RebuildResult:
    events: int = 0
    skipped: int = 0


async def rebuild(
    settings: ReportingSettings, *, idle_seconds: float | None = None
) -> RebuildResult:
    idle = idle_seconds if idle_seconds is not None else settings.rebuild_idle_seconds
    mongo = create_mongo_client(
        settings.mongo_url.get_secret_value(), app_name="foro-reporting-rebuild"
    )
    deps = build_deps(settings, mongo)
    result = RebuildResult()
    connection = await aio_pika.connect_robust(settings.broker_url.get_secret_value())
    try:
        await deps.repository.drop_projections()
        await deps.repository.ensure_indexes()
        channel = await connection.channel()
        await channel.set_qos(
            prefetch_count=max(settings.prefetch, 100)
        )  # streams require a prefetch
        try:
            stream = await channel.declare_queue(
                Topology(settings.namespace).event_log_name, passive=True
            )
        except ChannelNotFoundEntity:
            log.warning("no event log to rebuild from", namespace=settings.namespace)
            return result
        inbox: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()
        tag = await stream.consume(inbox.put, arguments={"x-stream-offset": "first"})

        async def worker() -> None:
            while True:
                try:
                    message = await asyncio.wait_for(inbox.get(), timeout=idle)
                except TimeoutError:
                    return
                try:
                    await handlers.project_event(json.loads(message.body), deps)
                    result.events += 1
                except (InvalidMessage, json.JSONDecodeError, UnicodeDecodeError) as refused:
                    result.skipped += 1
                    log.warning(
                        "event skipped", reason=str(refused)[:200], message_id=message.message_id
                    )
                await message.ack()

        # The folds commute (last writer wins by occurred_at; first check-in wins), so events may be
        # folded concurrently and in any order: the workers only overlap database round trips.
        await asyncio.gather(*(worker() for _ in range(settings.rebuild_concurrency)))
        await stream.cancel(tag)
    finally:
        await connection.close()
        await mongo.close()
    log.info("projections rebuilt", events=result.events, skipped=result.skipped)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--idle-seconds", type=float, default=None, help="Quiet time that means caught up."
    )
    args = parser.parse_args()
    settings = ReportingSettings()
    configure_logging("reporting-rebuild", settings.log_level, settings.log_format)
    outcome = asyncio.run(rebuild(settings, idle_seconds=args.idle_seconds))
    print(f"rebuilt from {outcome.events} events ({outcome.skipped} skipped)")


if __name__ == "__main__":
    main()
