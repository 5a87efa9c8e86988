"""`foro asyncapi generate|check`: the AsyncAPI documents in deploy/asyncapi/, generated from code.

Each document is what `faststream docs gen --factory services.<name>.main:asyncapi_app` writes,
keys sorted (shared/asyncapi.py). The services are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Generate the AsyncAPI documents from the code, or check the committed ones.",
    no_args_is_help=True,
)

OutOption = Annotated[
    Path | None,
    typer.Option(show_default=False, help="Directory of the documents (default: deploy/asyncapi)."),
]


@app.command()
def generate(out: OutOption = None) -> None:
    """Regenerate deploy/asyncapi/<service>.json for every service."""
    from shared.asyncapi import OUT, write_documents

    for path in write_documents(out or OUT):
        typer.echo(f"wrote {path}")


@app.command()
def check(out: OutOption = None) -> None:
    """Exit 1 when a committed document is missing or stale (what CI checks)."""
    from shared.asyncapi import OUT, stale_documents

    stale = stale_documents(out or OUT)
    if stale:
        typer.echo(
            f"stale AsyncAPI documents: {', '.join(stale)}; run foro asyncapi generate", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"ok: the documents in {out or OUT} are what the code generates")
