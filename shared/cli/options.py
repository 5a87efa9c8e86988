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

SECRET_NOTE = " A URL with a password is better set in the variable (arguments show in `ps`)."
# None: the command's settings decide (FORO_MONGO_URL, else the local default).
MongoUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar="FORO_MONGO_URL",
        show_default=False,
        help="The database server (default: mongodb://127.0.0.1:27017/…)." + SECRET_NOTE,
    ),
]
