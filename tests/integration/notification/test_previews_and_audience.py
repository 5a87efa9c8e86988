"""The console's reading routes: a template rendered with sample data (es/en, e-mail and SMS;
nothing sent), and a campaign's audience counted before it is sent — the same people the
campaign then reaches, the opted-out ones suppressed."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually
from tests.support.notification import confirmed, participant


async def test_templates_are_listed_and_previewed_in_both_languages_without_sending(
    notification: RunningNotification,
) -> None:
    async with notification.api() as api:
        listed = await api.get("/templates")
        assert listed.status_code == 200, listed.text
        by_type = {t["message_type"]: t for t in listed.json()}
        confirmed_type = by_type["registration_confirmed"]
        assert confirmed_type["languages"] == ["en", "es"]
        assert "registration.confirmed" in confirmed_type["triggers"]
        assert by_type["info_campaign"]["triggers"] == []  # sent by campaigns only

        spanish = (await api.get("/templates/registration_confirmed/preview?lang=es")).json()
        english = (await api.get("/templates/registration_confirmed/preview?lang=en")).json()
        assert spanish["language"] == "es" and english["language"] == "en"
        assert spanish["subject"].startswith("Inscripción confirmada")
        assert english["subject"].startswith("Registration confirmed")
        assert "Anne" in english["text"] and "Ana" in spanish["text"]  # the sample person
        assert english["html"].lstrip().lower().startswith("<!doctype html")
        assert english["sms"] is None

        sms = (
            await api.get("/templates/registration_confirmed/preview?lang=en&channel=sms")
        ).json()
        assert sms["channel"] == "sms" and sms["sms"] and sms["html"] is None
        none = (await api.get("/templates/badge_issued/preview?channel=sms")).json()
        assert none["sms"] is None and none["language"] == "es"  # the forum's language

        unknown = await api.get("/templates/no_such_type/preview")
        assert unknown.status_code == 404
        assert unknown.json()["detail"]["message_en"].startswith("message_type:")
        wrong = await api.get("/templates/registration_confirmed/preview?lang=fr")
        assert wrong.status_code == 422 and "lang" in wrong.text

    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=notification.app), base_url="http://notification"
    )
    async with anonymous:
        assert (await anonymous.get("/templates")).status_code == 401
        assert (await anonymous.get("/campaigns/audience")).status_code == 401
    assert notification.sink.messages() == []
    assert await notification.messages() == []


async def test_a_campaigns_audience_is_counted_before_sending_and_the_send_reaches_it(
    notification: RunningNotification,
) -> None:
    staying, leaving = participant(), participant(language="en")
    elsewhere = participant(country="GT")
    for person in (staying, leaving, elsewhere):
        await notification.publish(confirmed(person))
        await notification.wait_emails(person["email"])

    segment = "countries=SV&categories=civil_society"
    async with notification.api() as api:
        response = await api.put(
            f"/people/{leaving['participant_id']}/preferences", json={"opt_out_non_essential": True}
        )
        assert response.status_code == 200, response.text
        counted = await api.get(f"/campaigns/audience?{segment}")
        assert counted.status_code == 200, counted.text
        audience = counted.json()
        assert (audience["contacts"], audience["opted_out"], audience["reached"]) == (2, 1, 1)
        assert audience["segment"]["statuses"] == ["confirmed"]  # the campaign's default
        english = (await api.get(f"/campaigns/audience?{segment}&languages=en")).json()
        assert (english["contacts"], english["opted_out"]) == (1, 1)
        waitlisted = (await api.get(f"/campaigns/audience?{segment}&statuses=waitlisted")).json()
        assert waitlisted["contacts"] == 0

        refused = await api.get("/campaigns/audience?countries=sv")
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"][:2] == ["query", "countries"]
        assert await notification.deps.repository.campaigns.count_documents({}) == 0  # counted only

        campaign_id = f"count-{uuid.uuid4().hex[:6]}"
        sent = await api.post(
            "/campaigns",
            json={
                "campaign_id": campaign_id,
                "segment": {"countries": ["SV"], "categories": ["civil_society"]},
                "subject": {"es": "Horario", "en": "Hours"},
                "body": {"es": "Abre a las 9:00.", "en": "Opens at 9:00."},
            },
        )
        assert sent.status_code == 202, sent.text

        async def expanded() -> bool:
            found = await api.get(f"/campaigns/{campaign_id}")
            return found.status_code == 200 and found.json()["status"] == "expanded"

        await eventually(expanded, what="the campaign expanded")
        created = (await api.get(f"/campaigns/{campaign_id}")).json()["created"]
    assert created == {"queued": audience["reached"], "suppressed": audience["opted_out"]}
