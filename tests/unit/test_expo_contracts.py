"""Expo's AsyncAPI document tells a consumer what every field of every event means."""

from __future__ import annotations

import json

from services.expo.publishers import PUBLISHED
from services.expo.subscribers import CONSUMED
from shared.asyncapi import render


def test_every_published_field_is_documented_and_every_channel_listed() -> None:
    document = json.loads(render("expo"))
    schemas = document["components"]["schemas"]
    for event in PUBLISHED:
        properties = schemas[event.__name__]["properties"]
        undocumented = [
            name
            for name, field in properties.items()
            if "description" not in field
            and "$ref" not in field
            and "allOf" not in field
            and name != "event_type"
        ]
        assert undocumented == [], event.__name__
    channels = set(document["channels"])
    assert {event.type_name() for event in PUBLISHED} <= channels
    assert {contract.type_name() for _, contract, _, _ in CONSUMED} <= channels
    assert "registration.submitted (exhibitor staff)" in channels
