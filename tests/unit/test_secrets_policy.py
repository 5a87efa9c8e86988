"""The production secret policy: the rules, every service's secret settings, the refusal."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.expo.settings import ExpoSettings
from services.notification.settings import NotificationSettings
from services.registration.settings import RegistrationSettings
from services.reporting.settings import ReportingSettings
from services.scheduling.settings import SchedulingSettings
from services.web.settings import WebSettings
from shared.secrets_policy import (
    STATIC_TOKENS_REFUSED,
    InsecureSettingsError,
    check_settings,
    generate_auth_keys,
    generate_local_secrets,
    generate_service_secrets,
    local_service_environment,
    secret_settings,
    url_weakness,
    weakness,
)
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_KEYS = json.loads(generate_auth_keys()["FORO_AUTH_PUBLIC_KEYS"])
SERVICE_SETTINGS: list[type[ServiceSettings]] = [
    RegistrationSettings,
    SchedulingSettings,
    ExpoSettings,
    NotificationSettings,
    ReportingSettings,
]


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own FORO_*/service variables must not decide these tests."""
    prefixes = (
        "FORO_",
        "WEB_",
        *(f"{c.model_config.get('env_prefix')}" for c in SERVICE_SETTINGS),
    )
    for key in list(os.environ):
        if key.upper().startswith(prefixes):
            monkeypatch.delenv(key)


# --- one value ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "missing"),
        ("CHANGE-ME", "placeholder"),
        ("change-me", "placeholder"),
        ("local-secretariat-token-change-me", "placeholder"),
        ("secret", "placeholder"),
        ("Zq3", "too short: 3 characters"),
        (secrets.token_urlsafe(16), "too short: 22 characters"),
        ("a" * 40, "too predictable"),
        ("abcabcabcabcabcabcabcabcabcabcabcabc", "too predictable"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "too predictable"),
    ],
)
def test_weak_values_are_refused_with_a_reason(value: str, reason: str) -> None:
    found = weakness(value)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "value",
    [
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(24),
        secrets.token_hex(16),
        secrets.token_hex(32),
    ],
)
def test_random_tokens_of_32_characters_or_more_are_accepted(value: str) -> None:
    assert weakness(value) is None


def test_the_password_inside_a_url_is_what_counts() -> None:
    strong = secrets.token_urlsafe(32)
    assert url_weakness(f"amqp://foro:{strong}@rabbitmq:5672/") is None
    assert "guest" in (url_weakness("amqp://guest:guest@127.0.0.1:5672/") or "")
    assert "placeholder" in (url_weakness("amqp://foro:CHANGE-ME@rabbitmq:5672/") or "")
    assert "too short" in (url_weakness("amqp://foro:short@rabbitmq:5672/") or "")
    assert "no password" in (url_weakness("amqp://rabbitmq:5672/") or "")
    # The database may go without credentials; when it has a password, it must be strong.
    assert url_weakness("mongodb://db:27017/", password_required=False) is None
    assert url_weakness("mongodb://u:weak@db:27017/", password_required=False) is not None
    # Percent-encoded passwords are judged decoded; several hosts parse.
    encoded = strong.replace("-", "%2D")
    assert url_weakness(f"mongodb://foro:{encoded}@m0:27017,m1:27017/?replicaSet=rs0") is None


# --- every secret setting of every service, found generically -----------------------------------


def _secret_fields(model: type[BaseModel]) -> set[str]:
    """The test's own walk: every field whose type mentions SecretStr, nested models included."""

    def mentions(annotation: Any, kind: type) -> bool:
        if annotation is kind or (isinstance(annotation, type) and issubclass(annotation, kind)):
            return True
        return any(mentions(arg, kind) for arg in get_args(annotation))

    def models(annotation: Any) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for arg in get_args(annotation) for m in models(arg)]

    found = set()
    for name, info in model.model_fields.items():
        if mentions(info.annotation, SecretStr):
            found.add(name)
        for nested in models(info.annotation):
            found |= {f"{name}.{inner}" for inner in _secret_fields(nested)}
    return found


def _weak_everywhere(settings_class: type[ServiceSettings]) -> ServiceSettings:
    """An instance whose every secret field (nested relays and gateways too) holds `weak`."""
    values: dict[str, Any] = {}
    for name in _secret_fields(settings_class):
        if "." in name:
            continue
        annotation = settings_class.model_fields[name].annotation
        values[name] = ["weak"] if "list" in str(annotation) else SecretStr("weak")
    values["broker_url"] = SecretStr("amqp://foro:weak@rabbitmq:5672/")
    values["mongo_url"] = SecretStr("mongodb://foro:weak@db:27017/")
    if settings_class is NotificationSettings:
        values["smtp_username"] = "relay-user"
        values["smtp_providers"] = [
            {
                "name": "smtp-primary",
                "host": "smtp.example.org",
                "username": "u",
                "password": "weak",
            }
        ]
        values["sms_providers"] = [
            {
                "name": "sms-primary",
                "base_url": "https://sms.example.org",
                "from_number": "+1",
                "auth_token": "weak",
            }
        ]
    if settings_class is RegistrationSettings:
        values["public_url"] = "https://foro.example.org"
        values["oidc_providers"] = [
            {
                "name": "corp",
                "issuer": "https://idp.example.org",
                "client_id": "foro",
                "client_secret": "weak",
            }
        ]
    return settings_class(**values)


@pytest.mark.parametrize("settings_class", SERVICE_SETTINGS, ids=lambda c: c.__name__)
def test_every_secret_field_of_every_service_is_checked(
    settings_class: type[ServiceSettings],
) -> None:
    settings = _weak_everywhere(settings_class)
    expected = _secret_fields(settings_class)
    assert len(expected) >= 4  # broker, database, participant tokens, API tokens at least
    checked = {
        f"{_field_of(settings_class, s.variable)}.{s.field}" if "[" in s.variable else s.field
        for s in secret_settings(settings)
    }
    assert checked == expected
    # …and each weak one is reported under its environment variable.
    reported = {problem.variable for problem in check_settings(settings)}
    for setting in secret_settings(settings):
        if any(setting.values):
            assert setting.variable in reported


def _field_of(settings_class: type[ServiceSettings], variable: str) -> str:
    prefix = str(settings_class.model_config.get("env_prefix"))
    return variable.split("[")[0].removeprefix(prefix).lower()


def test_variables_are_the_environment_names_operators_set() -> None:
    names = {s.variable for s in secret_settings(_weak_everywhere(NotificationSettings))}
    assert {
        "FORO_BROKER_URL",
        "FORO_MONGO_URL",
        "FORO_PARTICIPANT_TOKEN_SECRET",
        "NOTIFICATION_API_TOKENS",
        "NOTIFICATION_SMTP_PASSWORD",
        "NOTIFICATION_SMTP_PROVIDERS[smtp-primary].password",
        "NOTIFICATION_SMS_PROVIDERS[sms-primary].auth_token",
    } <= names
    assert {s.variable for s in secret_settings(_weak_everywhere(RegistrationSettings))} >= {
        "REGISTRATION_WEBHOOK_SECRETS",
        "REGISTRATION_API_TOKENS",
        "FORO_BADGE_SECRET",
        "REGISTRATION_BADGE_PREVIOUS_SECRETS",
        "REGISTRATION_OIDC_PROVIDERS[corp].client_secret",
    }
    assert "FORO_PARTICIPANT_TOKEN_SECRET" in {
        s.variable for s in secret_settings(_weak_everywhere(SchedulingSettings))
    }


def test_a_new_secret_setting_is_covered_without_editing_the_policy() -> None:
    class Extra(ServiceSettings):
        model_config = SettingsConfigDict(
            env_prefix="EXTRA_", extra="ignore", populate_by_name=True
        )

        database: str = "foro_extra"
        partner_key: SecretStr | None = Field(None)
        signing_keys: list[SecretStr] = Field(default_factory=list)

    problems = {p.variable: p.reason for p in check_settings(Extra())}
    assert problems["EXTRA_PARTNER_KEY"] == "missing"
    assert problems["EXTRA_SIGNING_KEYS"] == "missing"
    with pytest.raises(InsecureSettingsError, match="EXTRA_PARTNER_KEY: missing"):
        Extra(environment="production")


def test_optional_secrets_may_stay_unset() -> None:
    strong = secrets.token_urlsafe(32)
    settings = NotificationSettings(
        broker_url=SecretStr(f"amqp://foro:{strong}@rabbitmq:5672/"),
        mongo_url=SecretStr("mongodb://db:27017/"),
        participant_token_secret=[SecretStr(strong)],
        auth_public_keys=PUBLIC_KEYS,
        # A relay without a user name needs no password; a json gateway no token.
        smtp_providers=[{"name": "smtp-a", "host": "relay"}],
        sms_providers=[
            {"name": "sms-a", "kind": "json", "base_url": "http://g", "from_number": "+1"}
        ],
    )
    assert check_settings(settings) == []


def test_provider_issued_credentials_follow_a_lighter_rule() -> None:
    """An SMTP relay's password is the provider's choice: 16 characters pass, placeholders not."""
    strong = secrets.token_urlsafe(32)
    base: dict[str, Any] = {
        "broker_url": SecretStr(f"amqp://foro:{strong}@rabbitmq:5672/"),
        "participant_token_secret": [SecretStr(strong)],
        "auth_public_keys": PUBLIC_KEYS,
        "smtp_username": "apikey",
    }
    assert (
        check_settings(NotificationSettings(**base, smtp_password=SecretStr("Xk2!pq9Lr7#mZ4vb")))
        == []
    )
    problems = check_settings(NotificationSettings(**base, smtp_password=SecretStr("change-me")))
    assert [str(p) for p in problems] == [
        "NOTIFICATION_SMTP_PASSWORD: a known default or placeholder value"
    ]


# --- production refuses, development warns ------------------------------------------------------


def test_production_refuses_naming_every_variable_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORO_ENVIRONMENT", "production")
    monkeypatch.setenv("REGISTRATION_WEBHOOK_SECRETS", '["CHANGE-ME"]')
    monkeypatch.setenv("REGISTRATION_API_TOKENS", '["short"]')
    with pytest.raises(InsecureSettingsError) as refused:
        RegistrationSettings()
    message = str(refused.value)
    assert "FORO_ENVIRONMENT=production" in message
    assert "REGISTRATION_WEBHOOK_SECRETS: a known default or placeholder value" in message
    assert "REGISTRATION_API_TOKENS: too short: 5 characters" in message
    assert "FORO_BROKER_URL: uses RabbitMQ's default user `guest`" in message
    assert "FORO_BADGE_SECRET: missing" in message
    assert "FORO_PARTICIPANT_TOKEN_SECRET: missing" in message
    assert "CHANGE-ME" not in message.replace("placeholder", "")  # values never echoed


def test_development_is_the_default_and_only_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = RegistrationSettings()
    assert settings.environment == "development"
    assert {p.variable for p in settings.secret_problems()} >= {"FORO_BROKER_URL"}


@pytest.mark.parametrize("settings_class", SERVICE_SETTINGS, ids=lambda c: c.__name__)
def test_generated_secrets_satisfy_production(
    settings_class: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `foro secrets generate --format k8s` writes starts every service in production: its
    keys are the variables the services read."""
    monkeypatch.setenv("FORO_ENVIRONMENT", "production")
    for key, value in generate_service_secrets().items():
        monkeypatch.setenv(key, value)
    settings = settings_class()
    assert settings.environment == "production"
    assert settings.secret_problems() == []


def test_the_local_keys_become_the_services_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`.foro/secrets.env` (the launcher's keys, a rotation's list included) → service variables
    strong enough for production, but for the static secretariat tokens (development only)."""
    keys = generate_local_secrets()
    keys["FORO_API_TOKEN"] = f'["{secrets.token_urlsafe(32)}","{keys["FORO_API_TOKEN"]}"]'
    env = local_service_environment(keys)
    monkeypatch.setenv("FORO_BROKER_URL", f"amqp://foro:{keys['FORO_BROKER_PASSWORD']}@h:5672/")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for settings_class in SERVICE_SETTINGS:
        settings = settings_class()
        assert len(settings.api_tokens) == 2
        assert list(settings.auth_public_keys) == [keys["FORO_AUTH_SIGNING_KEY_ID"]]
        assert [str(p) for p in settings.secret_problems()] == [
            f"{settings_class.model_config.get('env_prefix')}API_TOKENS: {STATIC_TOKENS_REFUSED}"
        ]
    registration = RegistrationSettings()
    assert len(registration.webhook_secrets) == 1
    assert registration.token_signer() is not None
    monkeypatch.setenv("FORO_ENVIRONMENT", "production")
    with pytest.raises(InsecureSettingsError, match="REGISTRATION_API_TOKENS: static secretariat"):
        RegistrationSettings()
    monkeypatch.delenv("REGISTRATION_API_TOKENS")
    assert RegistrationSettings().secret_problems() == []


def test_production_needs_public_keys_and_a_signing_key_they_match() -> None:
    strong = secrets.token_urlsafe(32)
    base: dict[str, Any] = {
        "broker_url": SecretStr(f"amqp://foro:{strong}@rabbitmq:5672/"),
        "participant_token_secret": [SecretStr(strong)],
        "webhook_secrets": [SecretStr(strong)],
        "badge_secret": SecretStr(secrets.token_urlsafe(32)),
    }

    def problems(**values: Any) -> dict[str, str]:
        return {
            p.variable: p.reason for p in RegistrationSettings(**base, **values).secret_problems()
        }

    keys = generate_auth_keys()
    good = {
        "auth_signing_key": SecretStr(keys["FORO_AUTH_SIGNING_KEY"]),
        "auth_signing_key_id": keys["FORO_AUTH_SIGNING_KEY_ID"],
        "auth_public_keys": json.loads(keys["FORO_AUTH_PUBLIC_KEYS"]),
    }
    assert problems(**good) == {}
    assert problems()["FORO_AUTH_PUBLIC_KEYS"].startswith("missing")
    assert problems()["FORO_AUTH_SIGNING_KEY"].startswith("missing")
    other = generate_auth_keys()
    mismatched = problems(**good | {"auth_public_keys": json.loads(other["FORO_AUTH_PUBLIC_KEYS"])})
    assert "would be refused" in mismatched["FORO_AUTH_PUBLIC_KEYS"]
    not_a_key = "bm90IGEga2V5IGF0IGFsbCwganVzdCBzb21lIHRleHQ="
    reported = problems(**good | {"auth_signing_key": SecretStr(not_a_key)})
    assert reported == {"FORO_AUTH_SIGNING_KEY": "not the base64 of an Ed25519 private key in PEM"}
    assert problems(**good | {"auth_signing_key_id": None}) == {
        "FORO_AUTH_SIGNING_KEY_ID": "missing: the id of the signing key"
    }


def test_a_service_process_refuses_to_start_in_production(tmp_path: Path) -> None:
    """The real entry point: exits non-zero before serving, the message naming the variable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("FORO_", "SCHEDULING_"))
    }
    env |= {
        "FORO_ENVIRONMENT": "production",
        # During a rotation: the new value strong, the old one compose's placeholder.
        "FORO_PARTICIPANT_TOKEN_SECRET": json.dumps(
            [secrets.token_urlsafe(32), "local-participant-secret-change-me"]
        ),
    }
    result = subprocess.run(
        [sys.executable, "-m", "services.scheduling.main"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "foro scheduling: FORO_ENVIRONMENT=production refuses to start" in result.stderr
    assert (
        "FORO_PARTICIPANT_TOKEN_SECRET: a known default or placeholder value (value 2 of 2)"
        in result.stderr
    )
    assert "FORO_AUTH_PUBLIC_KEYS: missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_list_of_secrets_is_a_json_list_or_one_value_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An env file's single token passes straight through (compose, `.foro/secrets.env`), and a
    rotation's JSON list keeps both values."""
    from services.registration.settings import RegistrationSettings

    monkeypatch.setenv("REGISTRATION_API_TOKENS", "a-single-token")
    monkeypatch.setenv("REGISTRATION_WEBHOOK_SECRETS", '["new-secret", "old-secret"]')
    settings = RegistrationSettings()
    assert [t.get_secret_value() for t in settings.api_tokens] == ["a-single-token"]
    assert [s.get_secret_value() for s in settings.webhook_secrets] == ["new-secret", "old-secret"]


def test_the_web_pages_secrets_are_generated_and_refused_weak_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """WEB_COOKIE_SECRET seals the web's sign-in cookie: `foro secrets generate --format k8s`
    makes it (production refuses the web without it), and WEB_WEBHOOK_SECRET, which the public
    sign-up form signs the intake webhook with, is the newest of REGISTRATION_WEBHOOK_SECRETS."""
    generated = generate_service_secrets()
    assert (
        generated["WEB_WEBHOOK_SECRET"] == json.loads(generated["REGISTRATION_WEBHOOK_SECRETS"])[0]
    )
    assert weakness(json.loads(generated["WEB_COOKIE_SECRET"])[0]) is None
    monkeypatch.setenv("FORO_ENVIRONMENT", "production")
    with pytest.raises(InsecureSettingsError, match="WEB_COOKIE_SECRET: missing"):
        WebSettings()
    for key, value in generated.items():
        monkeypatch.setenv(key, value)
    settings = WebSettings()
    assert settings.secret_problems() == []
    assert len(settings.cookie_keys()) == 1
    registration = RegistrationSettings()
    webhook = getattr(settings, "webhook_secret", None)  # the public form's (when it is built)
    if webhook is not None:
        assert webhook.get_secret_value() in {
            s.get_secret_value() for s in registration.webhook_secrets
        }


def test_the_local_keys_give_the_web_its_cookie_and_webhook_secrets() -> None:
    keys = generate_local_secrets()
    env = local_service_environment(keys)
    assert json.loads(env["WEB_COOKIE_SECRET"]) == [keys["WEB_COOKIE_SECRET"]]
    assert env["WEB_WEBHOOK_SECRET"] == keys["FORO_WEBHOOK_SECRET"]
    # During a rotation of the webhook secret the form signs with the newest.
    keys["FORO_WEBHOOK_SECRET"] = f'["new-{keys["FORO_WEBHOOK_SECRET"]}", "old"]'
    env = local_service_environment(keys)
    assert env["WEB_WEBHOOK_SECRET"] == json.loads(env["REGISTRATION_WEBHOOK_SECRETS"])[0]
