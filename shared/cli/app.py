"""`foro`: the root command, mounting every command group."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from shared.cli import (
    asyncapi,
    backup,
    check,
    dlq,
    pack,
    reporting,
    secrets,
    stack,
    templates,
    tokens,
    topology,
    users,
    vendors,
)

app = typer.Typer(
    name="foro",
    help="Run and operate foro: the platform, its dead letters, topology, projections and secrets.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@app.callback()
def environment(
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            envvar="FORO_ENV_FILE",
            help="Read the platform's variables from this file first (KEY=value lines): "
            "`.foro/foro.env` is what `foro up` gives its services. The environment wins over it.",
        ),
    ] = None,
) -> None:
    """Run and operate foro: the platform, its dead letters, topology, projections and secrets."""
    if env_file is None:
        return
    if not env_file.is_file():
        raise typer.BadParameter(f"{env_file} is not a file", param_hint="--env-file")
    from shared.cli.secrets import read_env
    from shared.secrets_policy import local_service_environment

    values = read_env(env_file.read_text())
    for name, value in (values | local_service_environment(values)).items():
        os.environ.setdefault(name, value)


stack.register(app)  # `foro up`, `foro send-sample`: top-level commands
app.add_typer(dlq.app, name="dlq")
app.add_typer(topology.app, name="topology")
reporting.register(app)  # `foro rebuild`, `foro memoria`
app.add_typer(pack.app, name="pack")
app.add_typer(templates.app, name="templates")
app.add_typer(asyncapi.app, name="asyncapi")
app.add_typer(secrets.app, name="secrets")
check.register(app)  # `foro check`
app.add_typer(backup.app, name="backup")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(vendors.app, name="vendors")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
