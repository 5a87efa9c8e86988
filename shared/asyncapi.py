"""AsyncAPI documents, generated from the code (never written by hand).

    foro asyncapi generate   regenerate deploy/asyncapi/<service>.json for every service
    foro asyncapi check      fail if a committed document is stale (shared/cli/asyncapi.py)

Each file is the document `faststream docs gen --factory services.<name>.main:asyncapi_app` writes,
with its keys sorted (FastStream orders channels arbitrarily, and a stable order keeps diffs honest)
and finished by `finish` with what FastStream cannot say:

- the servers: `production` (amqps, the operator's host) and `development` (the local broker);
- the channels a form vendor publishes to (contracts with `exchange = "intake"`) name the intake
  exchange and the routing key, not the queue foro reads them from;
- every message has at least one example: the payloads its contract declares
  (`json_schema_extra={"examples": [...]}` on the class: the intake contracts), or else one
  assembled from the examples of its fields. Both come from shared/contracts, and
  tests/unit/test_asyncapi_contract.py feeds every one of them to the product.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from shared.contracts.envelope import Contract, Event
from shared.messaging.topology import Topology
from shared.settings import ServiceSettings

SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
OUT = Path(__file__).resolve().parents[1] / "deploy" / "asyncapi"
VERSION = "0.1.0"
NAMESPACE = "foro"
CONTRACT_MODULES = ("registration", "scheduling", "expo", "notification", "reporting")

SERVERS: dict[str, dict[str, Any]] = {
    "production": {
        "host": "rabbitmq.example.org:5671",
        "protocol": "amqps",
        "protocolVersion": "0.9.1",
        "pathname": "/",
        "description": "The production broker, over TLS. rabbitmq.example.org stands for the "
        "operator's host: the operator gives each party its address and a broker user of its own "
        "(a form vendor's may publish to the intake exchange and do nothing else).",
        "security": [{"$ref": "#/components/securitySchemes/brokerUser"}],
    },
    "development": {
        "host": "127.0.0.1:5672",
        "protocol": "amqp",
        "protocolVersion": "0.9.1",
        "pathname": "/",
        "description": "The local broker of `foro up` and of the tests (user guest, password "
        "guest), without TLS: never for real data.",
        "security": [{"$ref": "#/components/securitySchemes/brokerUser"}],
    },
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "brokerUser": {
        "type": "userPassword",
        "description": "A RabbitMQ user and its password, given by the operator.",
    }
}


def documented_settings[S: ServiceSettings](settings_class: type[S]) -> S:
    """Settings fixed for documentation, whatever the environment says."""
    return settings_class(
        broker_url=SecretStr("amqp://guest:guest@rabbitmq:5672/"),
        namespace="foro",
        environment="development",  # a production shell must not refuse to describe the app
    )


def asyncapi_app(broker: RabbitBroker, service: str, description: str) -> FastStream:
    return FastStream(
        broker,
        specification=AsyncAPI(title=f"foro · {service}", version=VERSION, description=description),
    )


def render(service: str) -> str | None:
    """The service's document as `faststream docs gen` writes it; None if the service has none."""
    try:
        module = importlib.import_module(f"services.{service}.main")
    except ModuleNotFoundError:
        return None
    factory = getattr(module, "asyncapi_app", None)
    if factory is None:
        return None
    return (
        json.dumps(
            finish(factory().schema.to_specification().to_jsonable()),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )


def documents() -> dict[str, str]:
    """Every service's document, by service (services without one left out)."""
    rendered = {service: render(service) for service in SERVICES}
    return {service: document for service, document in rendered.items() if document is not None}


def write_documents(out: Path = OUT) -> list[Path]:
    """Regenerate every document in `out`; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service, document in documents().items():
        path = out / f"{service}.json"
        path.write_text(document, encoding="utf-8")
        written.append(path)
    return written


def stale_documents(out: Path = OUT) -> list[str]:
    """The services whose committed document in `out` is missing or not what the code generates."""
    return [
        service
        for service, document in documents().items()
        if not (out / f"{service}.json").exists()
        or (out / f"{service}.json").read_text(encoding="utf-8") != document
    ]


# --- what FastStream cannot say ----------------------------------------------------------------


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """The document FastStream generated, with servers, intake bindings and message examples."""
    document["servers"] = json.loads(json.dumps(SERVERS))
    document.setdefault("components", {})["securitySchemes"] = json.loads(
        json.dumps(SECURITY_SCHEMES)
    )
    for channel in document.get("channels", {}).values():
        channel["servers"] = [{"$ref": f"#/servers/{name}"} for name in SERVERS]
    _name_the_intake_exchange(document)
    _add_examples(document)
    return document


def contract_classes() -> dict[str, type[Contract]]:
    """Every contract class by name (the names of the payload schemas); events win a tie."""
    for module in CONTRACT_MODULES:
        importlib.import_module(f"shared.contracts.{module}")
    found: dict[str, type[Contract]] = {}
    for cls in _subclasses(Contract):
        if cls.__name__ not in found or issubclass(cls, Event):
            found[cls.__name__] = cls
    return found


def event_classes() -> dict[str, type[Event]]:
    """Every event class by its event type."""
    return {
        cls.type_name(): cls
        for cls in contract_classes().values()
        if issubclass(cls, Event) and isinstance(cls.model_fields["event_type"].default, str)
    }


def _subclasses(cls: type[Contract]) -> Iterator[type[Contract]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def example_payloads(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The example payloads of a contract: those its class declares, else one from its fields."""
    declared = model.model_config.get("json_schema_extra")
    examples = declared.get("examples") if isinstance(declared, dict) else None
    if isinstance(examples, list):
        return [dict(example) for example in examples if isinstance(example, dict)]
    return [_assembled(model)]


def _assembled(model: type[BaseModel]) -> dict[str, Any]:
    """A payload from each field's first example; a required field without one is made from its
    type (a nested contract, a list of them, a literal); an optional one without one is left out."""
    payload: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.examples:
            payload[name] = field.examples[0]
        elif field.is_required():
            payload[name] = _example_of(field.annotation, f"{model.__name__}.{name}")
        elif field.default is not None and field.default is not PydanticUndefined:
            payload[name] = field.default
    jsonable: dict[str, Any] = json.loads(json.dumps(payload, default=str))
    return jsonable


def _example_of(annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _example_of(args[0], where)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return example_payloads(annotation)[0]
    if origin is list:
        return [_example_of(args[0], where)]
    if origin is typing.Literal:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        return _example_of(next(arg for arg in args if arg is not type(None)), where)
    raise ValueError(f"{where} has no example: give the field one (Field(examples=[...]))")


def _payload_class(document: dict[str, Any], message: dict[str, Any]) -> type[Contract] | None:
    """The contract a message's payload is, None for an untyped one (a handler reading a dict)."""
    ref = message.get("payload", {}).get("$ref", "")
    name = unquote(ref.rsplit("/", 1)[-1])
    return contract_classes().get(name)


def _messages(
    document: dict[str, Any], channel: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, message object) of each message of a channel, from the components."""
    for ref in channel.get("messages", {}).values():
        name = unquote(ref["$ref"].rsplit("/", 1)[-1])
        yield name, document["components"]["messages"][name]


def topic_matches(binding_key: str, routing_key: str) -> bool:
    """Whether a topic exchange routes `routing_key` to a queue bound with `binding_key`."""
    words = []
    for word in binding_key.split("."):
        words.append({"*": r"[^.]+", "#": r".*"}.get(word, re.escape(word)))
    pattern = r"\.".join(words).replace(r".*\.", r"(?:.*\.)?").replace(r"\..*", r"(?:\..*)?")
    return re.fullmatch(pattern, routing_key) is not None


def _name_the_intake_exchange(document: dict[str, Any]) -> None:
    """A channel whose messages are intake contracts is where a vendor publishes: it names the
    intake exchange and the routing key. FastStream names only the queue foro consumes from (an
    AMQP channel binding is an exchange or a queue, not both): that queue stays documented beside
    it, as the channel `<name> (queue)`."""
    intake = Topology(namespace=NAMESPACE).intake
    channels = document.get("channels", {})
    for key, channel in list(channels.items()):
        amqp = channel.get("bindings", {}).get("amqp", {})
        contracts = [_payload_class(document, m) for _, m in _messages(document, channel)]
        if not contracts or any(
            c is None or not issubclass(c, Event) or c.exchange != "intake" for c in contracts
        ):
            continue
        how = (
            f"Publish to the exchange `{intake.name}` (topic, durable) with routing key "
            f"`{channel['address']}`, persistent (delivery mode 2), content type "
            "application/json; publisher confirms recommended."
        )
        queue = amqp.pop("queue", None)
        if queue is not None:
            channels[f"{key} (queue)"] = {
                **copy.deepcopy(channel),
                "bindings": {"amqp": {**copy.deepcopy(amqp), "is": "queue", "queue": queue}},
                "description": f"The queue foro reads `{channel['address']}` from, bound to "
                f"`{intake.name}`. Publishers do not use it: see the channel `{key}`.",
            }
            how += f" foro reads it from its queue `{queue['name']}`."
        amqp["is"] = "routingKey"
        amqp["exchange"] = {
            "name": intake.name,
            "type": intake.type.value,
            "durable": intake.durable,
            "autoDelete": intake.auto_delete,
            "vhost": "/",
        }
        channel["description"] = f"{channel.get('description', '').rstrip()}\n\n{how}".strip()
        for _, message in _messages(document, channel):
            message["contentType"] = "application/json"


def _add_examples(document: dict[str, Any]) -> None:
    """Every message gets the examples of its contract; an untyped one (a handler that reads any
    domain event bound to its queue) gets the example of the first domain event type its binding
    routes to it."""
    events = {t: cls for t, cls in event_classes().items() if cls.exchange == "events"}
    for channel in document.get("channels", {}).values():
        for name, message in _messages(document, channel):
            contract = _payload_class(document, message)
            if contract is None:
                routed = sorted(t for t in events if topic_matches(channel["address"], t))
                if not routed:
                    raise ValueError(f"{name}: no foro event is routed to {channel['address']!r}")
                contract = events[routed[0]]
            examples = example_payloads(contract)
            for example in examples:
                contract.model_validate(example)  # an example the product refuses fails here
            message["examples"] = [
                {
                    "name": f"{contract.__name__}-{n}" if len(examples) > 1 else contract.__name__,
                    "summary": _first_line(contract.__doc__),
                    "payload": example,
                }
                for n, example in enumerate(examples, start=1)
            ]


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0].strip()
