"""Options several `foro` commands share, spelled once: the same flag, variable and help everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

# Exit codes of the commands that talk to the broker.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKER = 3
EXIT_ABORTED = 4

NamespaceOption = Annotated[
    str,
    typer.Option(
        "--namespace", envvar="FORO_NAMESPACE", help="Prefix of every exchange and queue."
    ),
]
BrokerUrlOption = Annotated[
    str,
    typer.Option(
        "--broker-url", envvar="FORO_BROKER_URL", help="AMQP URL of RabbitMQ.", show_default=False
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="FORO_ACTOR",
        help="Who runs this, for the audit log.",
        show_default="the OS user",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")
]
