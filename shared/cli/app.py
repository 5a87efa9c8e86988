"""`foro`: the root command, mounting every command group."""

from __future__ import annotations

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
    topology,
)

app = typer.Typer(
    name="foro",
    help="Run and operate foro: the platform, its dead letters, topology, projections and secrets.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
