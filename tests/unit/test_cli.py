"""The `foro` command without a broker: its help, pack validation, template review and the AsyncAPI
check (the commands that talk to the broker are tested in tests/integration/cli/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shared.cli.app import app
from shared.pack import DEFAULT_PACK

runner = CliRunner()

# What issue 13 and the folded module CLIs promise, at the top level. (`check` joins the list once
# shared/cli/check.py registers its command.)
PROMISED = (
    "up",
    "send-sample",
    "dlq",
    "topology",
    "rebuild",
    "memoria",
    "pack",
    "templates",
    "asyncapi",
    "secrets",
    "check",
    "backup",
)


def test_foro_help_lists_every_group_and_command() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    mounted = {command.name for command in app.registered_commands} | {
        group.name for group in app.registered_groups
    }
    assert set(PROMISED) <= mounted
    listed = {
        line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ")
    }  # rows of the rich help panels: "│ name   help…"
    assert mounted <= listed, f"not in foro --help: {mounted - listed}"


def test_every_group_answers_help() -> None:
    for group in app.registered_groups:
        assert isinstance(group.typer_instance, typer.Typer)
        result = runner.invoke(app, [str(group.name), "--help"])
        assert result.exit_code == 0, (group.name, result.output)


def test_pack_validate_accepts_the_bundled_pack() -> None:
    result = runner.invoke(app, ["pack", "validate", str(DEFAULT_PACK)])
    assert result.exit_code == 0, result.output
    assert "ok: crm-foro-sector-privado-migraciones" in result.stdout
    assert "templates and triggers" in result.stdout


def test_pack_validate_names_every_problem_with_its_field_path_and_reason(tmp_path: Path) -> None:
    text = DEFAULT_PACK.read_text(encoding="utf-8")
    assert text.count("      capacity: 400\n") == 1 and "  default_language: es\n" in text
    broken = tmp_path / "pack.yaml"
    broken.write_text(
        text.replace("      capacity: 400\n", "      capacity: -5\n").replace(
            "  default_language: es\n", "  default_language: fr\n", 1
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["pack", "validate", str(broken)])
    assert result.exit_code == 1, result.output
    assert "✗ programme.rooms[0].capacity: Input should be greater than 0 (line " in result.stdout
    assert "✗ forum.default_language: Input should be 'es' or 'en' (line " in result.stdout
    assert "ok:" not in result.stdout


def test_pack_validate_checks_the_templates_beside_the_pack(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_PACK, tmp_path / "pack.yaml")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "registration_confirmed.yaml").write_text(
        'es:\n  subject: "Hola {{ person.given_name "\n  text: "x"\n  html: "<p>x</p>"\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["pack", "validate", str(tmp_path / "pack.yaml")])
    assert result.exit_code == 1, result.output
    assert "registration_confirmed: unexpected end of template" in result.stdout
    skipped = runner.invoke(
        app, ["pack", "validate", str(tmp_path / "pack.yaml"), "--skip-templates"]
    )
    assert skipped.exit_code == 0, skipped.output


def test_pack_validate_reports_unreadable_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "pack.yaml"
    broken.write_text("forum: [unclosed\n", encoding="utf-8")
    result = runner.invoke(app, ["pack", "validate", str(broken)])
    assert result.exit_code == 1
    assert "invalid YAML" in result.stdout


def test_pack_show_summarises_the_pack() -> None:
    result = runner.invoke(app, ["pack", "show"])
    assert result.exit_code == 0, result.output
    assert "2004-11-18 to 2004-11-19" in result.stdout


def test_templates_render_prints_a_message_with_sample_data() -> None:
    result = runner.invoke(
        app, ["templates", "render", "registration_confirmed", "--lang", "en", "--part", "subject"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Registration confirmed: Private Sector and Migration Forum"
    everything = runner.invoke(app, ["templates", "render", "registration_confirmed"])
    assert everything.exit_code == 0, everything.output
    for part in ("subject", "text", "sms", "html"):
        assert f"===== {part} (es) =====" in everything.stdout


def test_templates_render_an_unknown_type_is_an_error() -> None:
    result = runner.invoke(app, ["templates", "render", "no_such_message"])
    assert result.exit_code == 2
    assert "no template for message type 'no_such_message'" in result.stderr


def test_asyncapi_check_passes_on_the_committed_documents_and_fails_on_stale_ones(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["asyncapi", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok:")

    generated = runner.invoke(app, ["asyncapi", "generate", "--out", str(tmp_path)])
    assert generated.exit_code == 0, generated.output
    (tmp_path / "expo.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "reporting.json").unlink()
    stale = runner.invoke(app, ["asyncapi", "check", "--out", str(tmp_path)])
    assert stale.exit_code == 1
    assert "stale AsyncAPI documents: expo, reporting" in stale.stderr


def test_memoria_refuses_an_unknown_language_before_connecting() -> None:
    result = runner.invoke(app, ["memoria", "--lang", "fr"])
    assert result.exit_code == 2
    assert "fr: not es or en" in result.output


def test_env_file_gives_commands_the_platforms_variables_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`foro --env-file .foro/foro.env <command>`: the file's variables, unless already set."""
    # The option writes into this process's environment (as in a real `foro` process): recorded
    # here first, so monkeypatch puts the variable back as it was after the test.
    monkeypatch.setenv("FORO_PACK_PATH", "")
    monkeypatch.delenv("FORO_PACK_PATH")
    env_file = tmp_path / "foro.env"
    env_file.write_text(f"FORO_PACK_PATH={tmp_path / 'elsewhere.yaml'}\n")
    from_file = runner.invoke(app, ["--env-file", str(env_file), "pack", "validate"])
    assert from_file.exit_code != 0
    assert "elsewhere.yaml" in from_file.output

    monkeypatch.setenv("FORO_PACK_PATH", str(DEFAULT_PACK))
    environment_wins = runner.invoke(app, ["--env-file", str(env_file), "pack", "validate"])
    assert environment_wins.exit_code == 0, environment_wins.output

    missing = runner.invoke(
        app, ["--env-file", str(tmp_path / "none.env"), "pack", "show"], env={"COLUMNS": "300"}
    )
    assert missing.exit_code == 2 and "is not a file" in missing.output
