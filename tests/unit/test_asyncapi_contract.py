"""The published contract and the product cannot disagree.

- Every message of every committed AsyncAPI document has an example, and every example is valid
  for the JSON schema the document gives AND for the pydantic model the consumer validates with.
- For the intake messages (what a form vendor sends), boundary values are generated from the
  document's schema (lengths, patterns, ranges, enums, required and unknown fields, key rules,
  item counts): each value goes to the JSON schema and to the product (the contract class, then
  the consumer's `describe_validation_error`, which is what a dead-letter reason and the webhook's
  422 say). Both must decide alike, and a refusal must name the field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators
from pydantic import ValidationError as ModelError

from shared.asyncapi import OUT, SERVICES, contract_classes, event_classes, topic_matches
from shared.contracts.envelope import Contract
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.messaging.consumer import describe_validation_error

DOCUMENTS = {
    service: json.loads((OUT / f"{service}.json").read_text(encoding="utf-8"))
    for service in SERVICES
}
INTAKE = {
    "registration.submitted:SubscribeMessage": RegistrationSubmitted,
    "registration.cancel_requested:SubscribeMessage": RegistrationCancelRequested,
}


def _python_pattern(pattern: str) -> str:
    # A JSON Schema pattern is an ECMAScript regular expression, where `$` ends the text;
    # Python's `$` also matches before a final line feed, so "Ana\n" would pass `^[^\n]*$`.
    return (
        pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    )


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not re.search(_python_pattern(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


SchemaValidator = validators.extend(Draft7Validator, {"pattern": _ecma_pattern})
# Every format jsonschema knows (`uuid` is one that draft 7's own checker leaves out).
FORMATS = FormatChecker()


def payload_validator(document: dict[str, Any], message: dict[str, Any]) -> Any:
    """A validator of the message's payload, resolving `#/components/...` in the document."""
    ref = message["payload"]["$ref"]
    return SchemaValidator({**document, "$ref": ref}, format_checker=FORMATS)


def every_message() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(service, message name, message, its channel) of every committed document."""
    for service, document in DOCUMENTS.items():
        for channel in document["channels"].values():
            for ref in channel["messages"].values():
                name = unquote(ref["$ref"].rsplit("/", 1)[-1])
                yield service, name, document["components"]["messages"][name], channel


def consumer_model(
    message: dict[str, Any], channel: dict[str, Any], example: Any
) -> type[Contract]:
    """The model that validates the message in the product: its payload's contract, or, for a
    handler that reads any event bound to its queue, the contract of the example's event type."""
    name = unquote(message["payload"]["$ref"].rsplit("/", 1)[-1])
    model = contract_classes().get(name)
    if model is not None:
        return model
    event_type = example["event_type"]
    assert topic_matches(channel["address"], event_type), (event_type, channel["address"])
    return event_classes()[event_type]


MESSAGES = list(every_message())


@pytest.mark.parametrize(
    ("service", "name", "message", "channel"),
    MESSAGES,
    ids=[f"{service}:{name}" for service, name, _, _ in MESSAGES],
)
def test_every_message_has_an_example_that_schema_and_product_accept(
    service: str, name: str, message: dict[str, Any], channel: dict[str, Any]
) -> None:
    examples = message.get("examples")
    assert examples, f"{service}: message {name} has no example"
    validator = payload_validator(DOCUMENTS[service], message)
    for example in examples:
        payload = example["payload"]
        errors = [error.message for error in validator.iter_errors(payload)]
        assert errors == [], f"{service}: the schema refuses {example['name']}: {errors}"
        consumer_model(message, channel, payload).model_validate(payload)


def test_the_intake_channels_name_the_exchange_and_routing_key_a_vendor_publishes_to() -> None:
    document = DOCUMENTS["registration"]
    for routing_key in ("registration.submitted", "registration.cancel_requested"):
        amqp = document["channels"][routing_key]["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        assert amqp["exchange"]["name"] == "foro.intake"
        assert amqp["exchange"]["type"] == "topic" and amqp["exchange"]["durable"] is True
        operation = document["operations"][routing_key]
        assert operation["bindings"]["amqp"]["cc"] == [routing_key]


def test_every_document_has_a_production_and_a_development_server() -> None:
    for document in DOCUMENTS.values():
        servers = document["servers"]
        assert servers["production"]["protocol"] == "amqps"
        assert "operator" in servers["production"]["description"]
        assert (servers["development"]["protocol"], servers["development"]["host"]) == (
            "amqp",
            "127.0.0.1:5672",
        )


# --- boundary values, generated from the schema ----------------------------------------------

# Characters tried in the middle of a value: each one the schema accepts there must be accepted
# by the product, and each one it refuses must be refused.
PROBES = ["\x00", "\t", "\n", "\x7f", "\x85", "\ud800", " ", "$", ".", "@", ":", "-", "_"]
PROBES += ["é", "A", "z", "0", '"', "<"]
# Characters tried to grow a value to a length while it keeps matching its pattern.
FILLERS = ["a", "0", ".", "-", "_", "A"]


class UnreachableBound(Exception):
    """The schema states a length no value matching its pattern has: not the product's rule."""


@dataclass(frozen=True)
class Case:
    """One generated payload: the field it probes and what it tries."""

    path: tuple[str | int, ...]
    what: str
    payload: dict[str, Any]
    key_of: tuple[str | int, ...] | None = None
    """For a map's key, the map's path: what a refusal names when the key cannot be printed."""

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in (self.path if self.key_of is None else self.key_of))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][unquote(schema["$ref"].rsplit("/", 1)[-1])]
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if "properties" not in schema and len(options) == 1 and len(schema["anyOf"]) == 2:
        return _resolve(document, options[0])  # an optional field: its non-null form
    return schema


def _fits(schema: dict[str, Any]) -> Callable[[str], bool]:
    pattern = schema.get("pattern")
    return lambda text: pattern is None or re.search(_python_pattern(pattern), text) is not None


def _grow(text: str, length: int, fits: Callable[[str], bool]) -> str | None:
    """`text` grown one character at a time to `length`, matching its pattern all the way."""
    while len(text) < length:
        for position in range(len(text), -1, -1):
            grown = next(
                (
                    candidate
                    for filler in FILLERS
                    if fits(candidate := text[:position] + filler + text[position:])
                ),
                None,
            )
            if grown is not None:
                text = grown
                break
        else:
            return None
    return text


def _shrink(text: str, length: int, fits: Callable[[str], bool]) -> str | None:
    while len(text) > length:
        for position in range(len(text) - 1, -1, -1):
            if fits(candidate := text[:position] + text[position + 1 :]):
                text = candidate
                break
        else:
            return None
    return text


def _string_values(schema: dict[str, Any], text: str) -> Iterator[tuple[str, str]]:
    """(what, value): the length bounds, just inside and just outside, and characters probed."""
    fits = _fits(schema)
    if (longest := schema.get("maxLength")) is not None:
        inside = _grow(text, longest, fits)
        if inside is None:
            raise UnreachableBound(
                f"maxLength {longest} cannot be reached under the pattern "
                f"{schema.get('pattern')!r}: the schema states a bound the product does not "
                "have (the models' 2000-character default beside a tighter rule?); state the "
                "real one (max_length=...)"
            )
        yield f"maxLength {longest}", inside
        outside = _grow(text, longest + 1, fits) or inside + inside[-1]
        yield f"maxLength {longest} + 1", outside
    if (shortest := schema.get("minLength", 0)) >= 1:
        inside = _shrink(text, shortest, fits)
        if inside is None:
            raise UnreachableBound(f"minLength {shortest} cannot be reached under the pattern")
        yield f"minLength {shortest}", inside
        yield f"minLength {shortest} - 1", inside[: shortest - 1]
        yield "blank", " " * shortest
    if "pattern" in schema or "maxLength" in schema:
        middle = len(text) // 2
        for probe in PROBES:
            yield f"{probe!r} in the middle", text[:middle] + probe + text[middle + 1 :]
    checks = FORMATS.checkers
    if schema.get("format") == "uuid":
        yield "not a UUID", text[:-1] + "g"
    if schema.get("format") == "date-time" and "date-time" in checks:
        yield "no UTC offset", text.rstrip("Z")


def _with(payload: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _without(payload: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return changed


def _renamed_key(
    payload: dict[str, Any], path: tuple[str | int, ...], old: str, new: str
) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for part in path:
        target = target[part]
    target[new] = target.pop(old)
    return changed


def boundary_cases(
    document: dict[str, Any],
    schema: dict[str, Any],
    payload: dict[str, Any],
    path: tuple[str | int, ...] = (),
) -> Iterator[Case]:
    """Every boundary value the schema at `path` states, each in a copy of `payload`."""
    schema = _resolve(document, schema)
    value: Any = payload
    for part in path:
        value = value[part]
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        for allowed in schema.get("enum", [schema.get("const")]):
            yield Case(path, f"enum {allowed!r}", _with(payload, path, allowed))
        yield Case(path, "not in the enum", _with(payload, path, f"{value}-x"))
    elif kind == "string":
        try:
            for what, text in _string_values(schema, value):
                yield Case(path, what, _with(payload, path, text))
        except UnreachableBound as overstated:
            UNREACHABLE.append(f"{'.'.join(map(str, path))}: {overstated}")
    elif kind == "integer":
        if (least := schema.get("minimum")) is not None:
            yield Case(path, f"minimum {least}", _with(payload, path, least))
            yield Case(path, f"minimum {least} - 1", _with(payload, path, least - 1))
        if (most := schema.get("maximum")) is not None:
            yield Case(path, f"maximum {most}", _with(payload, path, most))
            yield Case(path, f"maximum {most} + 1", _with(payload, path, most + 1))
    elif kind == "array":
        item = value[0]
        for count in (schema.get("maxItems"), schema.get("minItems")):
            if count is not None:
                yield Case(path, f"{count} items", _with(payload, path, [item] * count))
                yield Case(path, "items beyond", _with(payload, path, [item] * (count + 1)))
        yield from boundary_cases(
            document, schema["items"], _with(payload, path, [item]), (*path, 0)
        )
    elif kind == "object" and "properties" in schema:
        for name in schema["properties"]:
            if name in value:
                yield from boundary_cases(
                    document, schema["properties"][name], payload, (*path, name)
                )
        for name in schema.get("required", []):
            yield Case((*path, name), "required, left out", _without(payload, (*path, name)))
        if schema.get("additionalProperties") is False:
            yield Case(
                (*path, "unexpected"), "unknown field", _with(payload, (*path, "unexpected"), 1)
            )
        alternatives = [branch["required"] for branch in schema.get("anyOf", [])]
        if alternatives:
            names = [name for names in alternatives for name in names]
            dropped = payload
            for name in names:
                dropped = _without(dropped, (*path, name))
            yield Case(path, f"none of {names}", dropped)
            for kept in alternatives:
                only = payload
                for name in names:
                    if name not in kept:
                        only = _without(only, (*path, name))
                yield Case(path, f"only {kept}", only)
    elif kind == "object":  # a map: its size, its keys, its values
        key, text = next(iter(value.items()))
        if (most := schema.get("maxProperties")) is not None:
            for count in (most, most + 1):
                many = {f"k{n}": text for n in range(count)}
                yield Case(path, f"{count} entries", _with(payload, path, many))
        try:
            for what, new_key in _string_values(schema.get("propertyNames", {}), key):
                yield Case(
                    (*path, new_key),
                    f"key: {what}",
                    _renamed_key(payload, path, key, new_key),
                    path,
                )
        except UnreachableBound as overstated:
            UNREACHABLE.append(f"{'.'.join(map(str, path))} keys: {overstated}")
        yield from boundary_cases(document, schema["additionalProperties"], payload, (*path, key))


def base_payload(
    document: dict[str, Any], schema: dict[str, Any], example: dict[str, Any]
) -> dict[str, Any]:
    """The message's first example with every optional field it leaves out filled from its
    schema's example (or its contract's), so that each field's boundaries are probed."""
    schema = _resolve(document, schema)
    full = dict(example)
    for name, field in schema.get("properties", {}).items():
        resolved = _resolve(document, field)
        if name in full:
            if "properties" in resolved and isinstance(full[name], dict):
                full[name] = base_payload(document, resolved, full[name])
            continue
        if "properties" in resolved:
            examples = resolved.get("examples") or [{}]
            full[name] = base_payload(document, resolved, examples[0])
        elif field.get("examples") or resolved.get("examples"):
            full[name] = (field.get("examples") or resolved["examples"])[0]
    return full


def intake_cases() -> Iterator[tuple[str, type[Contract], Any, Case]]:
    document = DOCUMENTS["registration"]
    for name, model in INTAKE.items():
        message = document["components"]["messages"][name]
        validator = payload_validator(document, message)
        base = base_payload(document, message["payload"], message["examples"][0]["payload"])
        assert not list(validator.iter_errors(base)), name
        model.model_validate(base)
        for case in boundary_cases(document, message["payload"], base):
            yield name, model, validator, case


UNREACHABLE: list[str] = []
CASES = list(intake_cases())


def test_every_stated_length_bound_is_the_real_one() -> None:
    assert UNREACHABLE == []


def test_the_boundaries_cover_every_constrained_field_of_the_intake_messages() -> None:
    probed = {(name, case.path[0]) for name, _, _, case in CASES if case.path}
    for name, model in INTAKE.items():
        assert {field for message, field in probed if message == name} >= set(model.model_fields), (
            name
        )
    assert any(case.path[:3] == ("actor", "roles", 0) for _, _, _, case in CASES)


@pytest.mark.parametrize(
    ("name", "model", "validator", "case"),
    CASES,
    ids=[
        f"{name.split(':')[0]}:{'.'.join(map(str, case.path)) or 'body'}:{case.what!r}"[:150]
        for name, _, _, case in CASES
    ],
)
def test_schema_and_product_decide_every_boundary_alike(
    name: str, model: type[Contract], validator: Any, case: Case
) -> None:
    schema_errors = [error.message for error in validator.iter_errors(case.payload)]
    try:
        model.model_validate(case.payload)
    except ModelError as refused:
        reason = describe_validation_error(refused)
        assert schema_errors, f"the product refuses what the schema accepts: {reason}"
        field = case.field
        if field:
            assert field in reason, f"the refusal does not name {field}: {reason}"
        else:  # a rule across fields: it names them
            assert all(word in reason for word in case.what.split("'")[1::2]), reason
        locations = [".".join(map(str, error["loc"])) for error in refused.errors()]
        assert not field or any(location.startswith(field) for location in locations)
    else:
        assert not schema_errors, f"the product accepts what the schema refuses: {schema_errors}"
