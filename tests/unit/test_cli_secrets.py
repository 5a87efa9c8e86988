"""`foro secrets generate|rotate`, through typer's CliRunner."""

from __future__ import annotations

import json
import stat
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shared.auth.errors import InvalidToken
from shared.auth.tokens import (
    LinkSigner,
    TokenSigner,
    TokenVerifier,
    decode_pem,
    parse_public_keys,
)
from shared.cli.app import app
from shared.cli.secrets import read_env
from shared.secrets_policy import LOCAL_VARIABLES, SERVICE_VARIABLES, decode_list, weakness

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def foro(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generate_env_writes_every_local_key_privately(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    code, out, err = foro("secrets", "generate", "--output", str(target))
    assert code == 0, err
    assert mode(target) == 0o600
    values = read_env(target.read_text())
    assert list(values) == [v.name for v in LOCAL_VARIABLES]
    derived = {v.name for v in LOCAL_VARIABLES if v.kind == "derived"}
    assert all(weakness(value) is None for key, value in values.items() if key not in derived)
    assert len(set(values.values())) == len(values)
    # Nothing secret on the terminal: the names only.
    for value in values.values():
        assert value not in out + err
    assert "FORO_API_TOKEN" in err


def test_generate_k8s_matches_the_example_secret(tmp_path: Path) -> None:
    target = tmp_path / "foro-credentials.yaml"
    code, out, err = foro("secrets", "generate", "--format", "k8s", "-o", str(target))
    assert code == 0, err
    assert mode(target) == 0o600
    document = yaml.safe_load(target.read_text())
    assert document["kind"] == "Secret" and document["metadata"]["name"] == "foro-credentials"
    generated = document["stringData"]
    for value in generated.values():
        assert value not in out + err
    # The example's foro-credentials keys (deploy/k8s keeps notification's relay and gateway
    # credentials, which their providers issue, in a Secret of their own).
    examples = sorted((ROOT / "deploy" / "k8s").rglob("secret.example.yaml"))
    assert examples, "deploy/k8s has no secret.example.yaml"
    [example] = [
        d
        for d in yaml.safe_load_all(examples[0].read_text())
        if d["metadata"]["name"] == "foro-credentials"
    ]
    assert set(generated) == set(example["stringData"])
    assert (
        generated["FORO_MONGO_URL"].split("@")[1]
        == example["stringData"]["FORO_MONGO_URL"].split("@")[1]
    )
    assert set(generated) == {v.name for v in SERVICE_VARIABLES}
    webhook_secrets = json.loads(generated["REGISTRATION_WEBHOOK_SECRETS"])
    assert len(webhook_secrets) == 1 and weakness(webhook_secrets[0]) is None
    assert not any(name.endswith("_API_TOKENS") for name in generated)  # production refuses them
    public_keys = json.loads(generated["FORO_AUTH_PUBLIC_KEYS"])
    assert list(public_keys) == [generated["FORO_AUTH_SIGNING_KEY_ID"]]
    assert generated["FORO_BROKER_URL"].startswith("amqp://foro:")


def test_generate_to_standard_output_without_a_file() -> None:
    code, out, _ = foro("secrets", "generate")
    assert code == 0
    assert set(read_env(out)) == {v.name for v in LOCAL_VARIABLES}


def test_generate_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    target.write_text("FORO_API_TOKEN=keep-me\n")
    code, _, err = foro("secrets", "generate", "-o", str(target))
    assert code == 1
    assert "--force" in err
    assert target.read_text() == "FORO_API_TOKEN=keep-me\n"
    code, _, _ = foro("secrets", "generate", "-o", str(target), "--force")
    assert code == 0
    assert read_env(target.read_text())["FORO_API_TOKEN"] != "keep-me"
    assert mode(target) == 0o600


def launcher_file(path: Path) -> dict[str, str]:
    """`.foro/secrets.env` as the local launcher writes it: bare values, no header."""
    values = {
        "FORO_API_TOKEN": "t" * 8 + "old-launcher-token-0123456789abcd",
        "FORO_WEBHOOK_SECRET": "w" * 8 + "old-webhook-secret-0123456789abc",
        "FORO_BADGE_SECRET": "b" * 8 + "old-badge-secret-0123456789abcde",
        "FORO_PARTICIPANT_TOKEN_SECRET": "p" * 8 + "old-participant-0123456789abcdef",
    }
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return values


def test_rotate_keeps_the_old_token_until_finish(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    old = launcher_file(target)
    code, out, err = foro("secrets", "rotate", "FORO_API_TOKEN", "--file", str(target))
    assert code == 0, err
    tokens = json.loads(read_env(target.read_text())["FORO_API_TOKEN"])
    assert len(tokens) == 2
    new = tokens[0]
    assert tokens == [new, old["FORO_API_TOKEN"]]  # the new value first, the old one still accepted
    assert weakness(new) is None
    assert new not in out + err and old["FORO_API_TOKEN"] not in out + err
    assert mode(target) == 0o600
    # Other keys untouched.
    values = read_env(target.read_text())
    assert {k: values[k] for k in old if k != "FORO_API_TOKEN"} == {
        k: v for k, v in old.items() if k != "FORO_API_TOKEN"
    }

    code, _, err = foro("secrets", "rotate", "FORO_API_TOKEN", "--file", str(target), "--finish")
    assert code == 0, err
    # Back to the launcher's bare single value: the new one.
    assert read_env(target.read_text())["FORO_API_TOKEN"] == new


def test_rotate_a_service_list_in_a_manifest(tmp_path: Path) -> None:
    target = tmp_path / "credentials.yaml"
    name = "REGISTRATION_WEBHOOK_SECRETS"
    assert foro("secrets", "generate", "--format", "k8s", "-o", str(target))[0] == 0
    before = json.loads(yaml.safe_load(target.read_text())["stringData"][name])
    code, _, err = foro("secrets", "rotate", name, "-f", str(target))
    assert code == 0, err
    during = json.loads(yaml.safe_load(target.read_text())["stringData"][name])
    assert during[1:] == before and len(during) == 2
    assert foro("secrets", "rotate", name, "-f", str(target), "--finish")[0] == 0
    after = yaml.safe_load(target.read_text())
    assert json.loads(after["stringData"][name]) == during[:1]
    assert after["kind"] == "Secret"
    assert mode(target) == 0o600


def test_finishing_the_webhook_rotation_moves_the_web_form_to_the_newest_secret(
    tmp_path: Path,
) -> None:
    """WEB_WEBHOOK_SECRET (the public sign-up form's) follows REGISTRATION_WEBHOOK_SECRETS: during
    a rotation it keeps signing with the old value (still accepted), at --finish it takes the
    newest; it cannot be rotated by itself."""
    target = tmp_path / "credentials.yaml"
    assert foro("secrets", "generate", "--format", "k8s", "-o", str(target))[0] == 0

    def data() -> dict[str, str]:
        loaded: dict[str, str] = yaml.safe_load(target.read_text())["stringData"]
        return loaded

    old = data()["WEB_WEBHOOK_SECRET"]
    assert json.loads(data()["REGISTRATION_WEBHOOK_SECRETS"]) == [old]
    assert foro("secrets", "rotate", "REGISTRATION_WEBHOOK_SECRETS", "-f", str(target))[0] == 0
    new, kept = json.loads(data()["REGISTRATION_WEBHOOK_SECRETS"])
    assert (kept, data()["WEB_WEBHOOK_SECRET"]) == (old, old)
    code, _, err = foro(
        "secrets", "rotate", "REGISTRATION_WEBHOOK_SECRETS", "-f", str(target), "--finish"
    )
    assert code == 0, err
    assert "WEB_WEBHOOK_SECRET" in err
    assert data()["WEB_WEBHOOK_SECRET"] == new
    code, _, err = foro("secrets", "rotate", "WEB_WEBHOOK_SECRET", "-f", str(target))
    assert code == 1 and "REGISTRATION_WEBHOOK_SECRETS" in err


def test_rotating_the_cookie_secret_signs_everyone_out_only_at_finish(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    assert foro("secrets", "generate", "-o", str(target))[0] == 0
    old = read_env(target.read_text())["WEB_COOKIE_SECRET"]
    assert foro("secrets", "rotate", "WEB_COOKIE_SECRET", "-f", str(target))[0] == 0
    new, kept = json.loads(read_env(target.read_text())["WEB_COOKIE_SECRET"])
    assert kept == old
    code, _, err = foro("secrets", "rotate", "WEB_COOKIE_SECRET", "-f", str(target), "--finish")
    assert code == 1 and "sign in again" in err  # it signs people out: --yes
    code, _, err = foro(
        "secrets", "rotate", "WEB_COOKIE_SECRET", "-f", str(target), "--finish", "--yes"
    )
    assert code == 0, err
    assert read_env(target.read_text())["WEB_COOKIE_SECRET"] == new


@pytest.mark.parametrize("suffix", [".env", ".yaml"])
def test_rotating_the_link_secret_keeps_sent_links_valid_until_finish(
    tmp_path: Path, suffix: str
) -> None:
    """FORO_PARTICIPANT_TOKEN_SECRET is a list: a rotation signs with a new value and still
    accepts the links the old one signed; only --finish --yes drops them."""
    name = "FORO_PARTICIPANT_TOKEN_SECRET"
    target = tmp_path / f"secrets{suffix}"
    if suffix == ".yaml":
        assert foro("secrets", "generate", "--format", "k8s", "-o", str(target))[0] == 0
    else:
        launcher_file(target)

    def secrets_in_file() -> list[str]:
        if suffix == ".yaml":
            return decode_list(yaml.safe_load(target.read_text())["stringData"][name])
        return decode_list(read_env(target.read_text())[name])

    [old] = secrets_in_file()
    sent = LinkSigner([old]).participant(str(uuid.uuid4()))
    code, out, err = foro("secrets", "rotate", name, "-f", str(target))
    assert code == 0, err
    during = secrets_in_file()
    assert during[1:] == [old] and weakness(during[0]) is None
    assert old not in out + err and during[0] not in out + err
    # What the services do with the list: sign with the new value, accept both.
    verifier = TokenVerifier({}, link_secrets=during)
    assert verifier.verify(sent.token).token_id == sent.jti
    fresh = LinkSigner(during).participant(str(uuid.uuid4()))
    assert fresh.token != sent.token and verifier.verify(fresh.token).token_id == fresh.jti

    # Finishing invalidates every link the old value signed: it needs --yes, and says so.
    code, _, err = foro("secrets", "rotate", name, "-f", str(target), "--finish")
    assert code == 1 and "--yes" in err and "personal codes" in err
    assert secrets_in_file() == during
    code, _, err = foro("secrets", "rotate", name, "-f", str(target), "--finish", "--yes")
    assert code == 0, err
    assert secrets_in_file() == during[:1]
    with pytest.raises(InvalidToken) as refused:
        TokenVerifier({}, link_secrets=secrets_in_file()).verify(sent.token)
    assert refused.value.reason == "unknown_key"
    if suffix == ".env":  # the launcher's file holds a bare value again outside a rotation
        assert read_env(target.read_text())[name] == during[0]
    assert mode(target) == 0o600


def test_rotating_what_breaks_its_users_needs_yes(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    old = launcher_file(target)
    target.write_text(
        target.read_text() + "FORO_BROKER_PASSWORD=" + "r" * 8 + "old-broker-0123456789abcdef\n"
    )
    before = read_env(target.read_text())
    code, _, err = foro("secrets", "rotate", "FORO_BROKER_PASSWORD", "-f", str(target))
    assert code == 1
    assert "--yes" in err and "rabbitmqctl change_password" in err
    assert read_env(target.read_text()) == before
    code, _, err = foro("secrets", "rotate", "FORO_BROKER_PASSWORD", "-f", str(target), "--yes")
    assert code == 0, err
    rotated = read_env(target.read_text())["FORO_BROKER_PASSWORD"]
    assert rotated != before["FORO_BROKER_PASSWORD"] and weakness(rotated) is None
    assert {k: v for k, v in read_env(target.read_text()).items() if k in old} == old


def test_rotating_the_badge_secret_keeps_printed_badges_valid(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    old = launcher_file(target)
    assert foro("secrets", "rotate", "FORO_BADGE_SECRET", "-f", str(target))[0] == 0
    values = read_env(target.read_text())
    assert values["FORO_BADGE_SECRET"] != old["FORO_BADGE_SECRET"]
    assert json.loads(values["FORO_BADGE_PREVIOUS_SECRETS"]) == [old["FORO_BADGE_SECRET"]]
    code, _, err = foro("secrets", "rotate", "FORO_BADGE_SECRET", "-f", str(target), "--finish")
    assert code == 1 and "--yes" in err
    assert (
        foro("secrets", "rotate", "FORO_BADGE_SECRET", "-f", str(target), "--finish", "--yes")[0]
        == 0
    )
    assert "FORO_BADGE_PREVIOUS_SECRETS" not in read_env(target.read_text())


def test_rotating_the_broker_url_changes_only_the_password(tmp_path: Path) -> None:
    target = tmp_path / "credentials.yaml"
    assert foro("secrets", "generate", "--format", "k8s", "-o", str(target))[0] == 0
    before = yaml.safe_load(target.read_text())["stringData"]["FORO_BROKER_URL"]
    assert foro("secrets", "rotate", "FORO_BROKER_URL", "-f", str(target))[0] == 1
    code, _, err = foro("secrets", "rotate", "FORO_BROKER_URL", "-f", str(target), "--yes")
    assert code == 0, err
    assert "rabbitmqctl change_password" in err
    after = yaml.safe_load(target.read_text())["stringData"]["FORO_BROKER_URL"]
    assert after != before
    assert after.startswith("amqp://foro:") and after.endswith("@rabbitmq:5672/")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("FORO_NOTHING", "not a secret foro knows"),
        ("NOTIFICATION_SMTP_PASSWORD", "issued by the provider"),
        ("REGISTRATION_API_TOKENS", "not a secret foro knows"),  # production refuses them
        ("FORO_AUTH_PUBLIC_KEYS", "rotate FORO_AUTH_SIGNING_KEY"),
        ("FORO_AUTH_SIGNING_KEY_ID", "rotate FORO_AUTH_SIGNING_KEY"),
    ],
)
def test_rotate_refuses_what_it_cannot_rotate(tmp_path: Path, name: str, message: str) -> None:
    target = tmp_path / "secrets.env"
    launcher_file(target)
    code, _, err = foro("secrets", "rotate", name, "-f", str(target))
    assert code == 1
    assert message in err


def test_rotate_needs_the_file(tmp_path: Path) -> None:
    code, _, err = foro("secrets", "rotate", "FORO_API_TOKEN", "-f", str(tmp_path / "none.env"))
    assert code == 1
    assert "does not exist" in err


def _signs_and_verifies(values: dict[str, str]) -> set[str]:
    """The key ids whose tokens the file's public keys verify, after signing with its key."""
    signer = TokenSigner(
        decode_pem(values["FORO_AUTH_SIGNING_KEY"]), values["FORO_AUTH_SIGNING_KEY_ID"]
    )
    token = signer.sign(
        subject="account:x", kind="staff", roles=["admin"], lifetime=timedelta(hours=1)
    ).token
    verifier = TokenVerifier(parse_public_keys(values["FORO_AUTH_PUBLIC_KEYS"]))
    assert verifier.verify(token).subject == "account:x"
    return set(verifier.key_ids)


@pytest.mark.parametrize("suffix", [".env", ".yaml"])
def test_rotating_the_signing_key_keeps_issued_tokens_valid_until_finish(
    tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"secrets{suffix}"
    format_ = "k8s" if suffix == ".yaml" else "env"
    assert foro("secrets", "generate", "--format", format_, "-o", str(target))[0] == 0

    def values() -> dict[str, str]:
        if suffix == ".yaml":
            return dict(yaml.safe_load(target.read_text())["stringData"])
        return read_env(target.read_text())

    before = values()
    old_kid = before["FORO_AUTH_SIGNING_KEY_ID"]
    assert _signs_and_verifies(before) == {old_kid}
    code, _, err = foro("secrets", "rotate", "FORO_AUTH_SIGNING_KEY", "-f", str(target))
    assert code == 0, err
    assert "beside" in err and before["FORO_AUTH_SIGNING_KEY"] not in err
    during = values()
    new_kid = during["FORO_AUTH_SIGNING_KEY_ID"]
    assert new_kid != old_kid and during["FORO_AUTH_SIGNING_KEY"] != before["FORO_AUTH_SIGNING_KEY"]
    assert _signs_and_verifies(during) == {old_kid, new_kid}  # old tokens still verify
    assert _signs_and_verifies(before | {"FORO_AUTH_PUBLIC_KEYS": during["FORO_AUTH_PUBLIC_KEYS"]})
    # Finishing invalidates tokens the old key signed: it needs --yes.
    code, _, err = foro("secrets", "rotate", "FORO_AUTH_SIGNING_KEY", "-f", str(target), "--finish")
    assert code == 1 and "--yes" in err and old_kid in err
    assert values() == during
    code, _, err = foro(
        "secrets", "rotate", "FORO_AUTH_SIGNING_KEY", "-f", str(target), "--finish", "--yes"
    )
    assert code == 0, err
    assert _signs_and_verifies(values()) == {new_kid}
    assert mode(target) == 0o600
