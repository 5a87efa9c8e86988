"""(to be written)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds this module's top-level commands to the root `foro` command."""
