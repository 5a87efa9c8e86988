"""A participant's own access on the shared auth (issue 14): their personal code signs them up
and nobody else, it expires, it is revoked by `access.subject_revoked` (a new one works at
once), and their agenda feed's link reads their agenda only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from shared.auth.permissions import Permission
from shared.contracts.registration import AccessSubjectRevoked
from tests.integration.scheduling.conftest import LINKS, PUBLIC_URL, SLOW, RunningScheduling
from tests.support.bus import eventually


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refusal(answer: httpx.Response) -> tuple[int, str]:
    detail = answer.json()["detail"]
    return answer.status_code, detail["code"] if isinstance(detail, dict) else ""


async def sign_up(
    scheduling: RunningScheduling, participant_id: str, token: str, code: str = "B2.1"
) -> httpx.Response:
    return await scheduling.http.post(
        f"/sessions/{code}/signups", json={"participant_id": participant_id}, headers=bearer(token)
    )


async def test_a_personal_code_signs_up_its_participant_only(
    scheduling: RunningScheduling,
) -> None:
    ana, beto = await scheduling.confirm_many(2)
    code = LINKS.participant(ana).token

    assert (await sign_up(scheduling, ana, code)).status_code == 201
    other = await sign_up(scheduling, beto, code)
    assert refusal(other) == (403, "participant_not_assigned")
    assert other.json()["detail"]["message_es"] and other.json()["detail"]["message_en"]
    given_up = await scheduling.http.delete(f"/sessions/B2.1/signups/{beto}", headers=bearer(code))
    assert refusal(given_up) == (403, "participant_not_assigned")
    # Staff holding signups:write act for anyone.
    by_staff = await scheduling.http.post(
        "/sessions/B2.1/signups", json={"participant_id": beto}, headers=scheduling.secretariat
    )
    assert by_staff.status_code == 201


async def test_an_expired_personal_code_is_refused(scheduling: RunningScheduling) -> None:
    [ana] = await scheduling.confirm_many(1)
    long_ago = datetime.now(UTC) - timedelta(days=10)
    expired = LINKS.participant(ana, lifetime=timedelta(days=1), now=long_ago).token
    answer = await sign_up(scheduling, ana, expired)
    assert refusal(answer) == (401, "token_expired")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_revoked_participant_is_refused_until_sent_a_new_code(
    scheduling: RunningScheduling,
) -> None:
    ana, beto = await scheduling.confirm_many(2)
    issued = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    old = LINKS.participant(ana, now=issued).token
    old_feed = LINKS.participant(ana, scope=[Permission.AGENDA_READ], now=issued).token
    beto_code = LINKS.participant(beto, now=issued).token
    assert (await sign_up(scheduling, ana, old, "B2.2")).status_code == 201

    # Registration revokes every link of Ana issued so far, as its outbox relay publishes it.
    before = datetime.now(UTC).replace(microsecond=0)
    event = AccessSubjectRevoked(
        producer="registration",
        subject=f"participant:{ana}",
        issued_before=before,
        expires_at=before + timedelta(days=180),
    )
    await scheduling.publish_event(event)
    await scheduling.publish_event(event)  # a redelivery changes nothing

    async def refused() -> bool:
        answer = await sign_up(scheduling, ana, old, "B2.3")
        return refusal(answer) == (401, "token_revoked")

    await eventually(refused, SLOW, what="Ana's old code refused")
    feed = await scheduling.http.get(f"/people/{ana}/agenda.ics", params={"token": old_feed})
    assert refusal(feed) == (401, "token_revoked")  # her feed link too: the same subject
    assert (await sign_up(scheduling, beto, beto_code, "B2.3")).status_code == 201  # one by one

    # A code signed after the revocation (registration signs it a second later) works.
    new = LINKS.participant(ana, now=before + timedelta(seconds=1)).token
    assert (await sign_up(scheduling, ana, new, "B2.3")).status_code == 201


async def test_the_agenda_feed_link_reads_its_persons_agenda_only(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published", timeout=SLOW)
    ana, beto = await scheduling.confirm_many(2)
    signed = await sign_up(scheduling, ana, LINKS.participant(ana).token, "B2.2")
    link = urlsplit(signed.json()["agenda_ics"])
    assert (
        f"{link.scheme}://{link.netloc}" == PUBLIC_URL and link.path == f"/people/{ana}/agenda.ics"
    )
    [feed_token] = parse_qs(link.query)["token"]

    http = scheduling.http
    mine = await http.get(link.path, params={"token": feed_token})
    assert mine.status_code == 200 and "B2.2" in mine.text
    assert refusal(await http.get(link.path)) == (401, "token_missing")
    assert refusal(await http.get(link.path, params={"token": "not-a-token"}))[0] == 401
    # Ana's link on Beto's agenda: refused.
    theirs = await http.get(f"/people/{beto}/agenda.ics", params={"token": feed_token})
    assert refusal(theirs) == (403, "participant_not_assigned")
    # Staff with agenda:read read anyone's, with their own token in the header.
    assert (await http.get(link.path, headers=scheduling.secretariat)).status_code == 200

    # The feed's token reads the agenda only: it signs nobody up, not even Ana.
    answer = await sign_up(scheduling, ana, feed_token, "B2.3")
    assert refusal(answer) == (403, "permission_missing")
    assert answer.json()["detail"]["permission"] == Permission.SIGNUPS_WRITE.value

    # Without a link secret the link carries no token: then only staff read the feed.
    settings = scheduling.deps.settings.model_copy(update={"participant_token_secret": []})
    unsigned = dataclasses.replace(scheduling.deps, settings=settings)
    assert unsigned.personal_feed_url(PUBLIC_URL, ana) == f"{PUBLIC_URL}/people/{ana}/agenda.ics"
