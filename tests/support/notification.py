"""What notification's tests stand in for: an SMS gateway over real HTTP, a settable clock, and
events as registration (or a future service) publishes them."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from shared.contracts.registration import Participant, RegistrationConfirmed
from tests.support.bus import eventually
from tests.support.factories import FORUM_ID


class FakeClock:
    """An injectable clock that only moves when the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class SmsAccount:
    status: int = 201
    received: list[dict[str, str]] = field(default_factory=list)


class FakeSmsGateway:
    """A Twilio-style Messages API on a real local HTTP server; each account answers with its own
    status code (set `accounts[sid].status = 500` to make that provider fail)."""

    def __init__(self) -> None:
        self.accounts: dict[str, SmsAccount] = {}
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                sid = self.path.split("/Accounts/")[-1].split("/")[0]
                with gateway._lock:
                    account = gateway.accounts.setdefault(sid, SmsAccount())
                    account.received.append(form)
                    status = account.status
                body = (
                    json.dumps({"sid": "SM" + uuid.uuid4().hex, "status": "queued"})
                    if status < 400
                    else json.dumps({"message": "gateway error"})
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def account(self, sid: str, status: int = 201) -> SmsAccount:
        with self._lock:
            self.accounts[sid] = SmsAccount(status=status)
            return self.accounts[sid]

    def start(self) -> FakeSmsGateway:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def participant(**overrides: Any) -> dict[str, Any]:
    """A registration participant snapshot, with random id and e-mail."""
    token = uuid.uuid4().hex[:10]
    body: dict[str, Any] = {
        "participant_id": str(uuid.uuid4()),
        "forum_id": FORUM_ID,
        "given_name": "Ana",
        "family_name": "López",
        "email": f"ana.{token}@example.org",
        "country": "SV",
        "category": "civil_society",
        "language": "es",
        "consents": {"privacy_policy": True},
        "status": "confirmed",
    }
    body.update(overrides)
    return body


def confirmed(person: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A `registration.confirmed` event, built with registration's own contract."""
    event = RegistrationConfirmed(
        producer="registration",
        participant=Participant.model_validate(person),
        submission_id=f"form-{uuid.uuid4().hex[:8]}",
        occurred_at=overrides.pop("occurred_at", datetime.now(UTC)),
        **overrides,
    )
    return event.model_dump(mode="json")


def badge_issued(person: dict[str, Any]) -> dict[str, Any]:
    """A `badge.issued` event: names the person by id only (their contact comes with registration's
    snapshot, which may arrive later)."""
    return foreign_event(
        "badge.issued",
        forum_id=person["forum_id"],
        participant_id=person["participant_id"],
        token_id=uuid.uuid4().hex[:16],
        category=person["category"],
        producer="registration",
    )


def foreign_event(event_type: str, **fields: Any) -> dict[str, Any]:
    """An event of a service notification only knows by routing key (extra fields included)."""
    return {
        "event_type": event_type,
        "event_id": str(uuid.uuid4()),
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "test",
        **fields,
    }


async def expanded_campaign(
    api: Any,
    campaign_id: str,
    segment: dict[str, Any],
    subject: dict[str, str],
    body: dict[str, str],
) -> dict[str, Any]:
    """Start a campaign through notification's API (`api`: its httpx client) and return it once
    it has expanded into messages."""
    response = await api.post(
        "/campaigns",
        json={"campaign_id": campaign_id, "segment": segment, "subject": subject, "body": body},
    )
    assert response.status_code == 202, response.text

    async def expanded() -> bool:
        found = await api.get(f"/campaigns/{campaign_id}")
        return bool(found.status_code == 200 and found.json()["status"] == "expanded")

    await eventually(expanded, what="the campaign expanded")
    return dict((await api.get(f"/campaigns/{campaign_id}")).json())
