"""docs/vendors.md's examples, run as a vendor would paste them: the sample sign-up is a valid
contract body; the Python and the curl + openssl webhook senders are verified by foro's own
`shared.webhooks.verify_request` (a local receiver doing what the intake does before it
publishes); the outbound receiver accepts what notification signs and refuses a forgery; the AMQP
example compiles (tests/integration/test_vendor_broker_user.py publishes the same way as a real
write-only user)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from shared.contracts.registration import RegistrationSubmitted
from shared.webhooks import SignatureRejected, signed_headers, vendor_secret, verify_request

DOC = Path(__file__).resolve().parents[2] / "docs" / "vendors.md"
ENTRY = "a configured intake secret, as FORO_WEBHOOK_SECRET holds it"


def snippet(name: str) -> str:
    """The fenced block right after `<!-- vendor-kit: NAME -->`."""
    found = re.search(
        rf"<!-- vendor-kit: {re.escape(name)} -->\n```[a-z]*\n(.*?)\n```", DOC.read_text(), re.S
    )
    assert found, f"docs/vendors.md has no vendor-kit block {name!r}"
    return found.group(1) + "\n"


class Intake(BaseHTTPRequestHandler):
    """What registration's intake checks before it publishes: signature, content type, contract."""

    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name: value for name, value in self.headers.items()}
        try:
            verify_request([ENTRY], headers, body)
            assert self.headers.get("Content-Type") == "application/json"
            RegistrationSubmitted.model_validate_json(body)
        except (SignatureRejected, AssertionError, ValueError) as refused:
            self._answer(401, {"detail": str(refused)})
            return
        Intake.received.append((self.path, headers, body))
        self._answer(202, {"accepted": True})

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def intake() -> Iterator[str]:
    Intake.received = []
    server = HTTPServer(("127.0.0.1", 0), Intake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def signup(tmp_path: Path) -> Path:
    path = tmp_path / "signup.json"
    path.write_text(snippet("signup.json"), encoding="utf-8")
    return path


def test_the_sample_sign_up_is_a_valid_contract_body(signup: Path) -> None:
    event = RegistrationSubmitted.model_validate_json(signup.read_bytes())
    assert event.event_type == "registration.submitted"
    assert event.consents.privacy_policy


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "openssl", "base64", "od")),
    reason="bash, curl, openssl, base64 or od is missing",
)
def test_the_shell_example_is_accepted_by_foros_verification(intake: str, signup: Path) -> None:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet("webhook-shell")],
        cwd=signup.parent,
        env={"PATH": "/usr/bin:/bin", "FORO_URL": intake, "WEBHOOK_SECRET": vendor_secret(ENTRY)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"accepted": True}, done.stdout
    [(path, headers, body)] = Intake.received
    assert path == "/intake/registrations"
    assert body == signup.read_bytes()  # the file's bytes, newline and all
    assert headers["webhook-signature"].startswith("v1,")


def test_the_shell_example_is_refused_with_another_secret(intake: str, signup: Path) -> None:
    if not shutil.which("openssl") or not shutil.which("curl"):
        pytest.skip("curl or openssl is missing")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet("webhook-shell")],
        cwd=signup.parent,
        env={"PATH": "/usr/bin:/bin", "FORO_URL": intake, "WEBHOOK_SECRET": vendor_secret("x")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "signature does not match" in done.stdout
    assert not Intake.received


def test_the_python_example_is_accepted_by_foros_verification(
    intake: str, signup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORO_URL", intake)
    monkeypatch.setenv("WEBHOOK_SECRET", vendor_secret(ENTRY))
    namespace: dict[str, Any] = {"__name__": "vendor_example"}
    exec(compile(snippet("webhook-python"), "docs/vendors.md", "exec"), namespace)
    event = json.loads(signup.read_text(encoding="utf-8"))
    answer = namespace["send"]("/intake/registrations", event)
    assert answer.status_code == 202, answer.text
    [(_, headers, body)] = Intake.received
    assert headers["webhook-id"] == event["event_id"]
    assert json.loads(body) == event


def test_the_outbound_example_accepts_what_foro_signs_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    monkeypatch.setenv("FORO_OUTBOUND_SECRET", secret)
    namespace: dict[str, Any] = {"__name__": "vendor_example"}
    exec(compile(snippet("outbound-python"), "docs/vendors.md", "exec"), namespace)
    event = {"event_type": "registration.confirmed", "occurred_at": "2026-10-01T14:05:00+00:00"}
    event |= {"event_id": "7d6b5e2c-0b0c-4cf4-8f1f-3f0ab7c4b6c1", "submission_id": "acme-81723"}
    # What notification POSTs (design: the Standard Webhooks payload shape, the event as `data`).
    body = json.dumps(
        {"type": event["event_type"], "timestamp": event["occurred_at"], "data": event}
    ).encode()
    old = "whsec_" + "A" * 32  # during a rotation foro signs with both
    headers = signed_headers([secret, old], body, msg_id="delivery-1")
    assert namespace["outcome"](body, headers) == event
    assert namespace["outcome"](body.replace(b"81723", b"81724"), headers) is None
    assert namespace["outcome"](body, signed_headers(old, body)) is None


def test_the_amqp_example_compiles() -> None:
    code = snippet("amqp-python")
    compile(code, "docs/vendors.md", "exec")
    assert "publisher_confirms=True" in code
    assert "DeliveryMode.PERSISTENT" in code
    assert "mandatory=True" in code
