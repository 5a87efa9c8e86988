"""The intake webhook as its OpenAPI document tells a form vendor: the security scheme, the three
signature headers (and the deprecated two), the body's schema with an example the product
accepts, and every error response."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from services.registration.bootstrap import create_app
from services.registration.intake.api import CANCELLATION_EXAMPLE, REGISTRATION_EXAMPLE
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted

ROUTES = {
    "/intake/registrations": (RegistrationSubmitted, REGISTRATION_EXAMPLE),
    "/intake/cancellations": (RegistrationCancelRequested, CANCELLATION_EXAMPLE),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the document's components beside it, so its `$ref`s resolve."""
    return {**schema, "components": document["components"]}


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_the_webhook_is_described_whole(document: dict[str, Any], path: str) -> None:
    model, example = ROUTES[path]
    operation = document["paths"][path]["post"]
    assert operation["security"] == [{"standardWebhooks": []}]
    scheme = document["components"]["securitySchemes"]["standardWebhooks"]
    assert scheme["in"] == "header" and scheme["name"] == "webhook-signature"
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert headers[name]["required"] is True and headers[name]["description"]
    for name in ("X-Foro-Timestamp", "X-Foro-Signature"):
        assert headers[name]["deprecated"] is True
    assert {"202", "401", "413", "415", "422", "503"} <= set(operation["responses"])
    assert all(r["description"] for r in operation["responses"].values())

    body = operation["requestBody"]["content"]["application/json"]
    schema = resolve(document, body["schema"])
    shown = body["examples"]["event"]["value"]
    assert shown == example
    jsonschema.validate(shown, schema)  # the document's schema accepts its own example
    model.model_validate(shown)  # and so does the product
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**shown, "email": 12}, schema)


def test_the_privacy_notice_route_is_public(document: dict[str, Any]) -> None:
    operation = document["paths"]["/intake/privacy-notice"]["get"]
    assert "security" not in operation
