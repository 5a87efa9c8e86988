"""`foro up` and `foro send-sample`: the platform on one machine (README command 1).

`deploy/local/up.sh` starts RabbitMQ when it is down and then runs `foro up`; the launcher itself
is `shared/devstack.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared import devstack
from shared.cli.options import BrokerUrlOption, NamespaceOption


def up(
    data_dir: Annotated[
        Path,
        typer.Option(
            help="Where the launcher keeps the database, logs, secrets, mail and pid files."
        ),
    ] = Path(".foro"),
    namespace: NamespaceOption = "foro",
    broker_url: BrokerUrlOption = devstack.DEFAULT_BROKER_URL,
    mongo_url: Annotated[
        str | None,
        typer.Option(
            envvar="FORO_MONGO_URL",
            help="An existing MongoDB-compatible server; when unset, an "
            "embedded SecantusDB is started on --mongo-port.",
        ),
    ] = None,
    mongo_port: Annotated[
        int, typer.Option(help="Port of the embedded SecantusDB (without --mongo-url).")
    ] = 27117,
    port_base: Annotated[
        int,
        typer.Option(help="The services listen on base+1 … base+5, the SMTP sink on base+25."),
    ] = 8000,
    forum_start_date: Annotated[
        str | None,
        typer.Option(
            envvar="FORO_FORUM_START_DATE",
            help="Move the forum (YYYY-MM-DD); default: "
            f"{devstack.FORUM_LEAD_DAYS} days after the first run, kept in DATA_DIR.",
        ),
    ] = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample/--no-sample", help="Send a sample sign-up and fetch its Memoria once ready."
        ),
    ] = True,
) -> None:
    """Run the platform: SecantusDB, the SMTP sink and the five services, restarted when they die.

    Ctrl-C (or SIGTERM) stops the services first, then the SMTP sink, then the database."""
    status = devstack.run(
        devstack.UpOptions(
            data_dir=data_dir,
            namespace=namespace,
            mongo_port=mongo_port,
            port_base=port_base,
            forum_start_date=forum_start_date or None,
            sample=sample,
            broker_url=broker_url,
            mongo_url=mongo_url or None,
        )
    )
    raise typer.Exit(status)


def send_sample(
    namespace: NamespaceOption = "foro",
    broker_url: BrokerUrlOption = devstack.DEFAULT_BROKER_URL,
    email: Annotated[
        str | None, typer.Option(help="The sample person's e-mail (a new one when unset).")
    ] = None,
) -> None:
    """Publish one sample sign-up to the intake exchange, as a form vendor would (plain aio-pika)."""
    body = devstack.send_sample(broker_url, namespace, email)
    devstack.log(f"sent registration.submitted {body['event_id']} for {body['email']}")


def register(app: typer.Typer) -> None:
    """Adds `foro up` and `foro send-sample` to the root `foro` command."""
    app.command("up")(up)
    app.command("send-sample")(send_sample)
