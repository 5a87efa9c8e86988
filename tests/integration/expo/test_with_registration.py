"""Expo and registration together on one namespace: an approved exhibitor's staff go through
registration's intake like any sign-up, and registration's confirmations come back to expo."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import aio_pika
from pydantic import SecretStr

from services.registration.bootstrap import create_app as create_registration
from services.registration.settings import RegistrationSettings
from shared.persistence.mongo import create_mongo_client
from tests.integration.expo.conftest import running_expo
from tests.support.bus import delete_topology, handled_at_least, publish_json


async def test_approved_staff_are_registered_by_registration_and_projected_back(
    mongo_url: str, amqp_url: str
) -> None:
    namespace = "t" + uuid.uuid4().hex[:10]
    settings = RegistrationSettings(
        namespace=namespace,
        database=f"registration_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        outbox_sweep_seconds=0.5,
        delivery_limit=3,
        # Registration closes when the forum ends: not the pack's 2004 forum.
        forum_start_date=(date.today() + timedelta(days=30)).isoformat(),
    )
    registration = create_registration(settings).state.runtime
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        async with (
            running_expo(mongo_url, amqp_url, namespace=namespace) as expo,
            registration.running(),
        ):
            email = f"luis.{uuid.uuid4().hex[:8]}@example.org"
            exhibitor_id, _, _ = await expo.approved_exhibitor(
                staff=[{"given_name": "Luis", "family_name": "Pérez", "email": email}],
                staff_consented=True,
            )

            confirmed = await expo.wait_events(
                "registration.confirmed", 1, lambda e: e["participant"]["email"] == email
            )
            participant = confirmed[0]["participant"]
            assert participant["category"] == "exhibitor_staff"
            assert participant["organisation"].startswith("Remesas")
            await expo.wait_attendee(
                participant["participant_id"], status="confirmed", category="exhibitor_staff"
            )

            # The approval's sign-up published again (a relay retry) makes no second participant.
            await expo.intake.drain()
            signup = next(
                b for b in expo.intake.of_type("registration.submitted") if b["email"] == email
            )
            await publish_json(
                connection,
                registration.topology.intake.name,
                "registration.submitted",
                json.dumps(signup).encode(),
            )
            await handled_at_least(
                next(q for q in registration.queue_names if q.endswith(".registration-submitted")),
                2,
            )
            staff = registration.mongo[settings.database]["participants"]
            assert await staff.count_documents({"email": email}) == 1
            assert exhibitor_id in (await staff.find_one({"email": email}))["submission_ids"][0]
            assert (
                len(
                    await expo.events(
                        "registration.confirmed", lambda e: e["participant"]["email"] == email
                    )
                )
                == 1
            )
    finally:
        await delete_topology(connection, registration.topology, registration.queue_names)
        await connection.close()
        cleanup = create_mongo_client(mongo_url)
        await cleanup.drop_database(settings.database)
        await cleanup.close()
