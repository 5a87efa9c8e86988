"""Participants' own access, issued and revoked one by one by registration: a personal code
(shown once), `access.subject_revoked` through the participant's outbox, refused by
registration's own verifier once its consumer has it; erasure revokes the links too; `foro
tokens revoke --participant` does what the route does, with its operator as the actor."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

import httpx
from typer.testing import CliRunner

from services.registration.settings import RegistrationSettings
from shared.auth.dependencies import authenticator_for
from shared.cli.app import app as foro
from tests.integration.registration.conftest import (
    RunningRegistration,
    outbox_published,
    participant_id_of,
)
from tests.support.bus import eventually
from tests.support.factories import signup


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_up(registration: RunningRegistration) -> str:
    person = signup()
    await registration.send(json.dumps(person).encode())
    return await participant_id_of(registration, person["email"])


async def answer(secretariat: httpx.AsyncClient, token: str) -> httpx.Response:
    """What registration answers a participant's code on a route it has no permission for:
    403 while the code is valid (it proved who they are), 401 once it is refused."""
    return await secretariat.get("/delegations", headers=bearer(token))


async def refused_as_revoked(secretariat: httpx.AsyncClient, token: str) -> None:
    async def revoked() -> bool:
        response = await answer(secretariat, token)
        return response.status_code == 401 and response.json()["detail"]["code"] == "token_revoked"

    await eventually(revoked, 15.0, what="registration refuses the revoked code")


async def test_a_code_is_issued_once_revoked_by_subject_and_a_new_one_works(
    registration: RunningRegistration, secretariat: httpx.AsyncClient
) -> None:
    participant_id = await signed_up(registration)
    issued = await secretariat.post(f"/participants/{participant_id}/access-token")
    assert issued.status_code == 201, issued.text
    code = issued.json()
    assert set(code) == {"access_token", "token_id", "expires_at"}
    lifetime = datetime.fromisoformat(code["expires_at"]) - datetime.now().astimezone()
    assert timedelta(days=179) < lifetime <= timedelta(days=180, seconds=2)
    principal = authenticator_for(registration.runtime).authenticate(code["access_token"])
    assert (principal.kind, principal.participant) == ("participant", participant_id)
    valid = await answer(secretariat, code["access_token"])
    assert valid.status_code == 403 and valid.json()["detail"]["code"] == "permission_missing"
    [announced] = await registration.tap.wait_for("participant.access_issued")
    assert announced["participant_id"] == participant_id
    assert announced["token_id"] == code["token_id"]
    assert code["access_token"] not in json.dumps(announced)

    unknown = await secretariat.post(f"/participants/{uuid.uuid4()}/access-token")
    assert unknown.status_code == 404
    assert (
        await secretariat.post(f"/participants/{uuid.uuid4()}/access/revoke")
    ).status_code == 404
    nobody = await secretariat.post(
        f"/participants/{participant_id}/access-token", headers={"Authorization": ""}
    )
    assert nobody.status_code == 401

    revoked = await secretariat.post(f"/participants/{participant_id}/access/revoke")
    assert revoked.status_code == 200, revoked.text
    [event] = await registration.tap.wait_for("access.subject_revoked")
    assert event["subject"] == f"participant:{participant_id}"
    assert datetime.fromisoformat(event["issued_before"]) == datetime.fromisoformat(
        revoked.json()["revoked_before"]
    )
    assert event["actor"]["kind"] == "static"
    await refused_as_revoked(secretariat, code["access_token"])

    # A new code, at once (within the same second too): not caught by the revocation.
    renewed = await secretariat.post(f"/participants/{participant_id}/access-token")
    assert renewed.status_code == 201
    fresh = renewed.json()["access_token"]
    assert (await answer(secretariat, fresh)).status_code == 403
    assert (await answer(secretariat, code["access_token"])).status_code == 401
    await outbox_published(registration)


async def test_erasure_revokes_the_participants_links(
    registration: RunningRegistration, secretariat: httpx.AsyncClient
) -> None:
    participant_id = await signed_up(registration)
    code = (await secretariat.post(f"/participants/{participant_id}/access-token")).json()
    erasure = await secretariat.post(f"/participants/{participant_id}/erasure")
    assert erasure.status_code == 202
    [erased] = await registration.tap.wait_for("participant.erased")
    [event] = await registration.tap.wait_for("access.subject_revoked")
    assert event["subject"] == f"participant:{participant_id}"
    assert event["causation_id"] == erased["causation_id"] == str(erasure.json()["event_id"])
    await refused_as_revoked(secretariat, code["access_token"])
    # Nobody to give a code to any more.
    assert (
        await secretariat.post(f"/participants/{participant_id}/access-token")
    ).status_code == 404
    await outbox_published(registration)


async def test_the_cli_revokes_a_participants_links_as_its_operator(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    secretariat: httpx.AsyncClient,
) -> None:
    participant_id = await signed_up(registration)
    code = (await secretariat.post(f"/participants/{participant_id}/access-token")).json()
    env = {
        "FORO_MONGO_URL": registration_settings.mongo_url.get_secret_value(),
        "REGISTRATION_DATABASE": registration_settings.database,
        "FORO_ACTOR": "test-operator",
    }
    runner = CliRunner()

    async def foro_command(*args: str):
        return await asyncio.to_thread(runner.invoke, foro, list(args), env=env)

    done = await foro_command("tokens", "revoke", "--participant", participant_id)
    assert done.exit_code == 0, done.output
    assert f"participant {participant_id}: links issued up to" in done.output
    # The command runs no relay: the running registration's sweep publishes its event.
    [event] = await registration.tap.wait_for("access.subject_revoked")
    assert event["subject"] == f"participant:{participant_id}"
    assert event["actor"]["subject"] == "cli:test-operator"
    assert event["actor"]["kind"] == "operator"
    await refused_as_revoked(secretariat, code["access_token"])

    unknown = await foro_command("tokens", "revoke", "--participant", str(uuid.uuid4()))
    assert unknown.exit_code == 1 and "--participant" in unknown.output
    both = await foro_command(
        "tokens", "revoke", "abcdefgh12345678", "--participant", participant_id
    )
    assert both.exit_code == 2
    not_an_id = await foro_command("tokens", "revoke", "--participant", "ana")
    assert not_an_id.exit_code == 2 and "UUID" in not_an_id.output
    await outbox_published(registration)
