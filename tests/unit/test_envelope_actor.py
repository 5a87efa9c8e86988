"""The actor in the envelope: who made a change, taken from the request's principal like the
correlation id, and kept by the events a change causes."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import httpx
from fastapi import Depends, FastAPI

from shared.auth.dependencies import Authenticator, require
from shared.auth.permissions import Permission, Role
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair
from shared.contracts.envelope import Actor, acting_as, request_actor
from shared.contracts.registration import AccessRevoked, BadgeRevoked
from shared.settings import ServiceSettings

PRIVATE, PUBLIC = generate_key_pair()
REGISTRAR = Actor(subject="account:ana", kind="staff", roles=["registrar"], token_id="t" * 32)
PARTICIPANT = "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"


def revoked(**fields: object) -> AccessRevoked:
    return AccessRevoked.model_validate(
        {
            "producer": "registration",
            "token_id": "a" * 32,
            "expires_at": "2026-12-03T08:00:00Z",
            **fields,
        }
    )


def test_an_event_built_outside_a_request_has_no_actor() -> None:
    assert request_actor() is None
    assert revoked().actor is None


def test_an_event_built_while_acting_carries_the_actor_and_an_explicit_one_wins() -> None:
    other = Actor(subject="cli:root", kind="operator")
    with acting_as(REGISTRAR):
        assert revoked().actor == REGISTRAR
        assert revoked(actor=other).actor == other
    assert revoked().actor is None  # nothing left behind


def test_an_event_caused_by_another_keeps_its_causes_actor() -> None:
    with acting_as(REGISTRAR):
        cause = revoked()
    effect = BadgeRevoked.caused_by(
        cause,
        producer="registration",
        forum_id="crm-foro",
        participant_id=PARTICIPANT,
        token_id="q3Vx0cJr5T2m9bYwQe1LZg",
        reason="cancelled",
    )
    assert effect.actor == REGISTRAR
    # Handled later by a consumer acting for someone else's request: still the cause's actor.
    with acting_as(Actor(subject="account:eve", kind="staff")):
        again = BadgeRevoked.caused_by(
            cause,
            producer="registration",
            forum_id="crm-foro",
            participant_id=PARTICIPANT,
            token_id="q3Vx0cJr5T2m9bYwQe1LZg",
            reason="cancelled",
        )
    assert again.actor == REGISTRAR


def test_the_actor_survives_the_wire() -> None:
    with acting_as(REGISTRAR):
        event = revoked()
    body = event.model_dump(mode="json")
    assert body["actor"] == {
        "subject": "account:ana",
        "kind": "staff",
        "roles": ["registrar"],
        "token_id": "t" * 32,
    }
    assert AccessRevoked.model_validate_json(event.model_dump_json()).actor == REGISTRAR
    assert AccessRevoked.model_validate(body).actor == REGISTRAR


async def test_a_route_behind_require_builds_events_with_its_principal_as_actor() -> None:
    built: list[AccessRevoked] = []
    app = FastAPI()
    service_settings = ServiceSettings(database="test", auth_public_keys={"k1": encode_pem(PUBLIC)})
    app.state.runtime = SimpleNamespace(
        settings=service_settings, authenticator=Authenticator.from_settings(service_settings)
    )

    @app.post("/revoke", dependencies=[Depends(require(Permission.TOKENS_MANAGE))])
    async def revoke() -> None:
        built.append(revoked())

    signed = TokenSigner(PRIVATE, "k1").sign(
        subject="account:root", kind="staff", roles=[Role.ADMIN], lifetime=timedelta(hours=1)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        answer = await client.post("/revoke", headers={"Authorization": f"Bearer {signed.token}"})
    assert answer.status_code == 200, answer.text
    assert built[0].actor == Actor(
        subject="account:root", kind="staff", roles=["admin"], token_id=signed.jti
    )
    assert revoked().actor is None
