"""docker-compose.yml: a supported RabbitMQ with foro's own user, every port on 127.0.0.1, the
production switch passed through. No Docker engine (nor the compose plugin) runs here, so the file
is read as compose would: YAML with merge keys, then `${VAR}` interpolation, done below for the
three forms the file uses (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "registration": 8001,
    "scheduling": 8002,
    "expo": 8003,
    "notification": 8004,
    "reporting": 8005,
}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:-|:\?|-)(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        if env.get(name):
            return env[name]
        if op == "-":  # the default only when unset: set and empty stays empty
            return env[name] if name in env else arg
        if op == ":-":
            return arg
        if op == ":?":
            raise MissingVariable(f"{name}: {arg}")
        return ""

    assert "$" not in _VARIABLE.sub("", value.replace("$$", "")), f"odd interpolation: {value}"
    return _VARIABLE.sub(substitute, value)


def compose(env: dict[str, str]) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return {key: interpolate(value, env) for key, value in raw.items() if not key.startswith("x-")}


@pytest.fixture
def stack() -> dict[str, Any]:
    return compose({"FORO_BROKER_PASSWORD": "s3cret-for-the-test"})


def test_the_broker_password_is_required() -> None:
    with pytest.raises(MissingVariable, match="FORO_BROKER_PASSWORD"):
        compose({})


def test_rabbitmq_4_with_its_own_user_and_quorum_queues(stack: dict[str, Any]) -> None:
    rabbit = stack["services"]["rabbitmq"]
    assert re.fullmatch(r"rabbitmq:4\.\d+[\w.-]*", rabbit["image"])
    assert rabbit["environment"]["RABBITMQ_DEFAULT_USER"] == "foro"
    assert rabbit["environment"]["RABBITMQ_DEFAULT_PASS"] == "s3cret-for-the-test"
    (config,) = rabbit["configs"]
    assert config["target"].startswith("/etc/rabbitmq/conf.d/")
    assert "default_queue_type = quorum" in stack["configs"][config["source"]]["content"]
    for name in SERVICES:
        url = stack["services"][name]["environment"]["FORO_BROKER_URL"]
        assert url == "amqp://foro:s3cret-for-the-test@rabbitmq:5672/"
    assert "guest:guest" not in (ROOT / "docker-compose.yml").read_text()


def test_every_port_is_published_on_localhost_only(stack: dict[str, Any]) -> None:
    published = 0
    for name, service in stack["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
            published += 1
    assert published >= 10


def test_the_services_run_their_own_module_port_and_environment(stack: dict[str, Any]) -> None:
    assert compose({"FORO_BROKER_PASSWORD": "x", "FORO_ENVIRONMENT": "production"})["services"][
        "expo"
    ]["environment"]["FORO_ENVIRONMENT"] == ("production")
    for name, port in SERVICES.items():
        service = stack["services"][name]
        env = service["environment"]
        assert env["FORO_ENVIRONMENT"] == "development"
        assert env[f"{name.upper()}_HTTP_PORT"] == str(port)
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
        module = service["command"][-1]
        assert service["command"][:2] == ["python", "-m"]
        assert importlib.util.find_spec(module) is not None, module
        assert service["image"] == "foro:local"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    notification = stack["services"]["notification"]["environment"]
    assert (notification["NOTIFICATION_SMTP_HOST"], notification["NOTIFICATION_SMTP_PORT"]) == (
        "mailpit",
        "1025",
    )


def test_static_secretariat_tokens_can_be_left_out_for_production() -> None:
    """Production refuses static secretariat tokens: an empty FORO_API_TOKEN sets none."""
    env = {"FORO_BROKER_PASSWORD": "x", "FORO_ENVIRONMENT": "production", "FORO_API_TOKEN": ""}
    for name, service in compose(env)["services"].items():
        if name in SERVICES:
            assert service["environment"][f"{name.upper()}_API_TOKENS"] == ""
    registration = compose({"FORO_BROKER_PASSWORD": "x"})["services"]["registration"]
    assert registration["environment"]["REGISTRATION_API_TOKENS"]  # a laptop's default
    assert {"FORO_AUTH_SIGNING_KEY", "FORO_AUTH_PUBLIC_KEYS"} <= set(registration["environment"])


def test_mongodb_is_a_single_node_replica_set(stack: dict[str, Any]) -> None:
    mongo = stack["services"]["mongo"]
    assert mongo["command"][:3] == ["mongod", "--replSet", "rs0"]
    assert stack["services"]["registration"]["environment"]["FORO_MONGO_URL"].endswith(
        "?replicaSet=rs0"
    )
    assert all(":" in image and not image.endswith(":latest") for image in _images(stack))


def _images(stack: dict[str, Any]) -> list[str]:
    return [service["image"] for service in stack["services"].values()]
