"""`foro secrets`: (to be written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="(to be written)", no_args_is_help=True)
