"""The `foro` command: one entry point for operators (`[project.scripts]` in pyproject.toml).

Each command group is a module of its own holding a `typer.Typer` named `app`; `shared.cli.app`
mounts them. Groups that belong to one service (the Memoria, templates) import that service lazily,
inside the command, so `foro --help` stays fast and no service is imported to run another's command.
"""
