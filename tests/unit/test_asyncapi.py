"""The committed AsyncAPI documents are what the code generates today."""

from __future__ import annotations

import json

import pytest

from shared.asyncapi import OUT, SERVICES, render


@pytest.mark.parametrize("service", SERVICES)
def test_committed_asyncapi_document_is_not_stale(service: str) -> None:
    document = render(service)
    assert document is not None, f"services/{service}/main.py must define asyncapi_app()"
    path = OUT / f"{service}.json"
    assert path.exists(), f"{path} is missing: run foro asyncapi generate"
    assert path.read_text(encoding="utf-8") == document, (
        f"{path} is stale: run foro asyncapi generate"
    )


def test_registration_document_describes_the_intake_contract_field_by_field() -> None:
    document = json.loads(render("registration"))
    schema = document["components"]["schemas"]["RegistrationSubmitted"]
    assert schema["additionalProperties"] is False
    undocumented = [
        name
        for name, field in schema["properties"].items()
        if "description" not in field
        and "$ref" not in field
        and "allOf" not in field
        and name != "event_type"
    ]
    assert undocumented == []
    assert "registration.submitted" in document["channels"]
