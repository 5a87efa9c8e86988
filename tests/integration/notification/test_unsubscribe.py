"""One-click unsubscribe (RFC 8058): a campaign e-mail carries List-Unsubscribe and
List-Unsubscribe-Post, read back from the SMTP sink; essential e-mails carry neither; the link's
POST opts the person out without a sign-in, with its audit event, and the next campaign skips
them."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import EventTap
from tests.support.notification import confirmed, expanded_campaign, participant


async def run_campaign(notification: RunningNotification, subject: str) -> str:
    campaign_id = f"unsubscribe-{uuid.uuid4().hex[:6]}"
    async with notification.api() as api:
        await expanded_campaign(
            api,
            campaign_id,
            {"countries": ["SV"]},
            {"es": subject, "en": subject},
            {"es": "La exposición abre a las 9:00.", "en": "The expo opens at 9:00."},
        )
    return campaign_id


def anonymous(notification: RunningNotification) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=notification.app), base_url="http://notification"
    )


@pytest.mark.parametrize(
    "notification_overrides",
    [
        {
            "public_url": "https://foro.example.org/notification",
            "unsubscribe_mailto": "baja@foro.example.org",
        }
    ],
)
async def test_a_campaign_unsubscribes_in_one_click_and_essential_mail_offers_no_way_out(
    notification: RunningNotification,
) -> None:
    person = participant()
    await notification.publish(confirmed(person))
    (confirmation,) = await notification.wait_emails(person["email"])
    assert confirmation["List-Unsubscribe"] is None
    assert confirmation["List-Unsubscribe-Post"] is None

    await run_campaign(notification, "Horario de la exposición")
    emails: list[EmailMessage] = await notification.wait_emails(person["email"], 2)
    (campaign,) = [e for e in emails if e["Subject"] == "Horario de la exposición"]
    assert campaign["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [part.strip().strip("<>") for part in campaign["List-Unsubscribe"].split(",")]
    assert mailto == "mailto:baja@foro.example.org?subject=unsubscribe"
    link = urlsplit(https)
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "foro.example.org",
        "/notification/unsubscribe",
    )
    (token,) = parse_qs(link.query)["token"]
    assert https in campaign.get_body(("plain",)).get_content()  # the text offers it too

    tap = await EventTap.open(notification.amqp, notification.runtime.topology, "contact.*")
    async with anonymous(notification) as client:
        forged = await client.post("/unsubscribe", params={"token": token[:-2] + "xx"})
        assert forged.status_code == 400 and "no es válido" in forged.text

        page = await client.get("/unsubscribe", params={"token": token})
        assert page.status_code == 200 and 'method="post"' in page.text
        assert "Darse de baja" in page.text and "Unsubscribe" in page.text
        contact = await notification.deps.repository.contact(person["participant_id"])
        assert not (contact or {}).get("preferences", {}).get("opt_out_non_essential")

        # What a mail client sends (RFC 8058): no sign-in, the one-click body.
        done = await client.post(
            "/unsubscribe",
            params={"token": token},
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200 and "Baja registrada" in done.text
        assert "You are unsubscribed" in done.text
        again = await client.post("/unsubscribe", params={"token": token})
        assert again.status_code == 200

    (changed,) = await tap.wait_for("contact.preferences_changed")
    await tap.channel.close()
    assert changed["person_id"] == person["participant_id"]
    assert changed.get("actor") is None  # no one signed in: the person, by the signed link
    assert changed["opt_out_non_essential"] is True and changed["fields"] == [
        "opt_out_non_essential"
    ]
    contact = await notification.deps.repository.contact(person["participant_id"])
    assert contact is not None and contact["preferences"]["opt_out_non_essential"] is True

    second = await run_campaign(notification, "Segunda campaña")
    (suppressed,) = await notification.messages(
        person_id=person["participant_id"], campaign_id=second
    )
    assert suppressed["status"] == "suppressed" and suppressed["suppressed_reason"] == "opted_out"
