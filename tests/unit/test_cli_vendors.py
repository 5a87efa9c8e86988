"""`foro vendors add|remove|list` without a broker: the permissions it grants (as patterns), what it
prints, the management API's requests, and rabbitmqctl's arguments (a stand-in script on PATH).
The real broker's refusals are tested in tests/integration/test_vendor_broker_user.py."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from yarl import URL

from shared.cli import vendors
from shared.cli.app import app
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.webhooks import vendor_secret

runner = CliRunner()


def test_the_grant_matches_the_intake_exchange_and_the_forms_routing_keys_only() -> None:
    grant = vendors.Grant(namespace="foro")
    assert (grant.exchange, grant.write) == ("foro.intake", r"^foro\.intake$")
    assert re.fullmatch(grant.write, "foro.intake")
    for other in ("foro.events", "foro.dead-letters", "foroxintake", "foro.intake2", "amq.default"):
        assert not re.search(grant.write, other), other
    keys = vendors.ROUTING_KEY_PATTERN
    for key in vendors.ROUTING_KEYS:
        assert re.search(keys, key)
    for key in (
        "participant.erasure_requested",
        "registration.confirmed",
        "registration.submitted.x",
        "xregistration.submitted",
        "#",
    ):
        assert not re.search(keys, key), key


def test_the_routing_keys_are_the_forms_contracts() -> None:
    assert vendors.ROUTING_KEYS == (
        RegistrationSubmitted.model_fields["event_type"].default,
        RegistrationCancelRequested.model_fields["event_type"].default,
    )
    assert RegistrationSubmitted.exchange == RegistrationCancelRequested.exchange == "intake"


class FakeBroker:
    """BrokerUsers in memory."""

    def __init__(self, fail_grant: bool = False) -> None:
        self.passwords: dict[str, str] = {}
        self.grants: dict[str, vendors.Grant] = {}
        self.closed: list[str] = []
        self.fail_grant = fail_grant

    def users(self) -> list[str]:
        return ["guest", *self.passwords]

    def add(self, user: str, password: str) -> None:
        if user in self.passwords:
            raise vendors.UserExists
        self.passwords[user] = password

    def grant(self, user: str, grant: vendors.Grant) -> None:
        if self.fail_grant:
            raise vendors.BrokerUnavailable("no such vhost")
        self.grants[user] = grant

    def permissions(self, user: str) -> list[vendors.Permission]:
        g = self.grants[user]
        return [vendors.Permission(g.vhost, vendors.NOTHING, g.write, vendors.NOTHING)]

    def topic_permissions(self, user: str) -> list[vendors.TopicPermission]:
        g = self.grants[user]
        pattern = vendors.ROUTING_KEY_PATTERN
        return [vendors.TopicPermission(g.vhost, g.exchange, pattern, vendors.NOTHING)]

    def close_connections(self, user: str, reason: str) -> None:
        self.closed.append(user)

    def delete(self, user: str) -> None:
        if user not in self.passwords:
            raise vendors.NoSuchUser
        del self.passwords[user]
        self.grants.pop(user, None)


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> FakeBroker:
    fake = FakeBroker()
    monkeypatch.setattr(vendors, "broker_users", lambda management_url: fake)
    return fake


CLEAN_ENV = {
    "FORO_WEBHOOK_SECRET": None,
    "REGISTRATION_WEBHOOK_SECRETS": None,
    "FORO_BROKER_URL": None,
    "FORO_NAMESPACE": None,
    "FORO_VENDOR_BROKER_URL": None,
    "FORO_RABBITMQ_MANAGEMENT_URL": None,
}


def printed(stdout: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stdout.splitlines())


def test_add_prints_the_url_exchange_keys_and_the_newest_webhook_secret(
    broker: FakeBroker,
) -> None:
    env = CLEAN_ENV | {"FORO_WEBHOOK_SECRET": '["newest-secret", "older-secret"]'}
    result = runner.invoke(app, ["vendors", "add", "Acme", "--namespace", "staging"], env=env)
    assert result.exit_code == 0, result.output
    password = broker.passwords["vendor-acme"]
    assert len(password) >= 32
    assert broker.grants["vendor-acme"] == vendors.Grant(namespace="staging", vhost="/")
    shown = printed(result.stdout)
    assert shown == {
        "amqp_url": f"amqp://vendor-acme:{password}@127.0.0.1:5672/",
        "exchange": "staging.intake",
        "routing_keys": "registration.submitted registration.cancel_requested",
        "webhook_secret": vendor_secret("newest-secret"),
    }
    assert shown["webhook_secret"].startswith("whsec_")
    assert "vendor-acme created on vhost /" in result.stderr


def test_add_reads_the_password_file_and_quotes_it_in_the_url(
    broker: FakeBroker, tmp_path: Path
) -> None:
    secret = "p@ss:word/with%odd chars"
    (tmp_path / "pw").write_text(secret + "\n")
    result = runner.invoke(
        app,
        ["vendors", "add", "acme", "--password-file", str(tmp_path / "pw"), "--vhost", "forms"],
        env=CLEAN_ENV | {"FORO_VENDOR_BROKER_URL": "amqps://broker.example.org:5671"},
    )
    assert result.exit_code == 0, result.output
    assert broker.passwords["vendor-acme"] == secret
    url = URL(printed(result.stdout)["amqp_url"])
    assert (url.scheme, url.host, url.port) == ("amqps", "broker.example.org", 5671)
    assert (url.user, url.password, url.path) == ("vendor-acme", secret, "/forms")
    assert "webhook_secret" not in result.stdout
    assert "No FORO_WEBHOOK_SECRET" in result.stderr


def test_add_over_the_management_api_defaults_to_amqps_on_its_host(broker: FakeBroker) -> None:
    result = runner.invoke(
        app,
        ["vendors", "add", "acme"],
        env=CLEAN_ENV | {"FORO_RABBITMQ_MANAGEMENT_URL": "https://ops:pw@rabbit.example.org"},
    )
    assert result.exit_code == 0, result.output
    url = URL(printed(result.stdout)["amqp_url"])
    assert (url.scheme, url.host, url.port) == ("amqps", "rabbit.example.org", 5671)


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["vendors", "add", "no spaces"], "NAME"),
        (["vendors", "add", "-x"], ""),
        (["vendors", "add", "acme", "--namespace", "Foro.Prod"], "--namespace"),
    ],
)
def test_add_refuses_bad_names(broker: FakeBroker, args: list[str], hint: str) -> None:
    result = runner.invoke(app, args, env=CLEAN_ENV)
    assert result.exit_code == 2, result.output
    assert hint in result.output
    assert not broker.passwords


def test_add_refuses_a_short_or_multi_line_password_file(
    broker: FakeBroker, tmp_path: Path
) -> None:
    for text in ("short\n", "a-long-enough-password\nsecond line\n", ""):
        (tmp_path / "pw").write_text(text)
        result = runner.invoke(
            app, ["vendors", "add", "acme", "--password-file", str(tmp_path / "pw")], env=CLEAN_ENV
        )
        assert result.exit_code == 2, (text, result.output)
    assert not broker.passwords


def test_add_refuses_an_existing_user_and_removes_one_it_could_not_grant(
    broker: FakeBroker,
) -> None:
    assert runner.invoke(app, ["vendors", "add", "acme"], env=CLEAN_ENV).exit_code == 0
    again = runner.invoke(app, ["vendors", "add", "acme"], env=CLEAN_ENV)
    assert again.exit_code == 1
    assert "vendor-acme exists" in again.stderr

    broker.fail_grant = True
    failed = runner.invoke(app, ["vendors", "add", "other"], env=CLEAN_ENV)
    assert failed.exit_code == 3
    assert "user removed again" in failed.stderr
    assert "vendor-other" not in broker.passwords


def test_remove_closes_connections_then_deletes(broker: FakeBroker) -> None:
    runner.invoke(app, ["vendors", "add", "acme"], env=CLEAN_ENV)
    removed = runner.invoke(app, ["vendors", "remove", "vendor-acme"], env=CLEAN_ENV)
    assert removed.exit_code == 0, removed.output
    assert broker.closed == ["vendor-acme"]
    assert "vendor-acme" not in broker.passwords
    missing = runner.invoke(app, ["vendors", "remove", "acme"], env=CLEAN_ENV)
    assert missing.exit_code == 1
    assert "no such user" in missing.stderr


def test_list_shows_vendors_only_and_whether_they_are_write_only(broker: FakeBroker) -> None:
    runner.invoke(app, ["vendors", "add", "acme"], env=CLEAN_ENV)
    result = runner.invoke(app, ["vendors", "list"], env=CLEAN_ENV | {"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "vendor-acme" in result.stdout
    assert "guest" not in result.stdout
    row = next(line for line in result.stdout.splitlines() if "vendor-acme" in line)
    assert "yes" in row


def test_write_only_is_false_for_anything_more() -> None:
    grant = vendors.Grant(namespace="foro")
    nothing = vendors.NOTHING
    topics = [vendors.TopicPermission("/", "foro.intake", vendors.ROUTING_KEY_PATTERN, nothing)]
    granted = vendors.Permission("/", nothing, grant.write, nothing)
    assert vendors.write_only([granted], topics)
    assert not vendors.write_only([granted], [])  # any routing key
    assert not vendors.write_only([vendors.Permission("/", nothing, grant.write, ".*")], topics)
    assert not vendors.write_only([vendors.Permission("/", ".*", grant.write, nothing)], topics)
    assert not vendors.write_only([vendors.Permission("/", nothing, ".*", nothing)], topics)
    wide_keys = [vendors.TopicPermission("/", "foro.intake", ".*", nothing)]
    assert not vendors.write_only([granted], wide_keys)


def test_the_management_api_requests() -> None:
    seen: list[tuple[str, str, Any, dict[str, str]]] = []
    users: set[str] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.raw_path.decode(), body, dict(request.headers)))
        path = request.url.raw_path.decode()
        if path == "/rabbit/api/users/vendor-acme" and request.method == "GET":
            return httpx.Response(200, json={}) if "vendor-acme" in users else httpx.Response(404)
        if path == "/rabbit/api/users/vendor-acme" and request.method == "PUT":
            users.add("vendor-acme")
            return httpx.Response(201)
        if path.startswith("/rabbit/api/connections?"):
            return httpx.Response(
                200, json=[{"name": "127.0.0.1:5 -> 127.0.0.1:5672", "user": "vendor-acme"}]
            )
        return httpx.Response(204)

    api = vendors.ManagementApi(
        "http://ops:s3cret@rabbit.local:15672/rabbit", transport=httpx.MockTransport(answer)
    )
    api.add("vendor-acme", "pw")
    api.grant("vendor-acme", vendors.Grant(namespace="foro"))
    with pytest.raises(vendors.UserExists):
        api.add("vendor-acme", "again")
    api.close_connections("vendor-acme", "removed")
    api.delete("vendor-acme")

    calls = [(method, path, body) for method, path, body, _ in seen]
    assert calls == [
        ("GET", "/rabbit/api/users/vendor-acme", None),
        ("PUT", "/rabbit/api/users/vendor-acme", {"password": "pw", "tags": ""}),
        (
            "PUT",
            "/rabbit/api/permissions/%2F/vendor-acme",
            {"configure": "^$", "write": r"^foro\.intake$", "read": "^$"},
        ),
        (
            "PUT",
            "/rabbit/api/topic-permissions/%2F/vendor-acme",
            {"exchange": "foro.intake", "write": vendors.ROUTING_KEY_PATTERN, "read": "^$"},
        ),
        ("GET", "/rabbit/api/users/vendor-acme", None),
        ("GET", "/rabbit/api/connections?columns=name%2Cuser", None),
        ("DELETE", "/rabbit/api/connections/127.0.0.1%3A5%20-%3E%20127.0.0.1%3A5672", None),
        ("DELETE", "/rabbit/api/users/vendor-acme", None),
    ]
    assert all(headers["authorization"] == "Basic b3BzOnMzY3JldA==" for *_, headers in seen)
    assert seen[-2][3]["x-reason"] == "removed"


def test_the_management_api_says_what_it_could_not_do() -> None:
    api = vendors.ManagementApi(
        "http://ops:pw@rabbit.local:15672",
        transport=httpx.MockTransport(lambda request: httpx.Response(401, text="Not_Authorized")),
    )
    with pytest.raises(vendors.BrokerUnavailable, match="401 Not_Authorized"):
        api.users()
    with pytest.raises(ValueError, match="names no user"):
        vendors.ManagementApi("http://rabbit.local:15672")


FAKE_RABBITMQCTL = """#!/bin/sh
# Records its arguments and standard input; answers the listings in JSON.
printf '%s\\n' "$*" >> "$LOG"
case "$2" in
  add_user) cat >> "$LOG"; printf '\\n' >> "$LOG" ;;
  list_users) printf '%s' '[{"user":"guest","tags":["administrator"]},{"user":"vendor-acme","tags":[]}]' ;;
  list_user_permissions) printf '%s' '[{"vhost":"/","configure":"^$","write":"^foro\\\\.intake$","read":"^$"}]' ;;
  list_user_topic_permissions) printf '%s' '[]' ;;
  delete_user) [ "$3" = vendor-gone ] && exit 67 ;;
esac
exit 0
"""


def test_rabbitmqctl_gets_the_password_on_stdin_never_in_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "rabbitmqctl"
    script.write_text(FAKE_RABBITMQCTL)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "log"
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LOG", str(log))

    result = runner.invoke(
        app, ["vendors", "add", "acme", "--namespace", "foro"], env=CLEAN_ENV | {"LOG": str(log)}
    )
    assert result.exit_code == 0, result.output
    password = URL(printed(result.stdout)["amqp_url"]).password
    assert password
    lines = log.read_text().splitlines()
    assert lines == [
        "-q add_user vendor-acme",
        password,
        r"-q set_permissions -p / vendor-acme ^$ ^foro\.intake$ ^$",
        "-q set_topic_permissions -p / vendor-acme foro.intake "
        + vendors.ROUTING_KEY_PATTERN
        + " ^$",
    ]

    listed = runner.invoke(app, ["vendors", "list"], env=CLEAN_ENV | {"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if "vendor-acme" in line)
    assert "NO" in row  # no topic permissions: any routing key

    gone = runner.invoke(app, ["vendors", "remove", "gone"], env=CLEAN_ENV)
    assert gone.exit_code == 1
    assert "no such user" in gone.stderr


def test_a_malformed_webhook_secret_variable_changes_nothing(broker: FakeBroker) -> None:
    result = runner.invoke(
        app, ["vendors", "add", "acme"], env=CLEAN_ENV | {"FORO_WEBHOOK_SECRET": '["unclosed'}
    )
    assert result.exit_code == 2, result.output
    assert "FORO_WEBHOOK_SECRET" in result.stderr
    assert not broker.passwords
