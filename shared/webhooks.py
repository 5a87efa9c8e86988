"""Signed webhooks: HMAC-SHA256 over `<timestamp>.<raw body>`, as external form vendors send them.

Headers: `X-Foro-Timestamp: <unix seconds>` and `X-Foro-Signature: v1=<hex digest>`. Several
secrets are accepted at once so a secret can be rotated without refusing a single request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from pydantic import SecretStr

TIMESTAMP_HEADER = "X-Foro-Timestamp"
SIGNATURE_HEADER = "X-Foro-Signature"
SCHEME = "v1"


class SignatureRejected(Exception):
    """Why a signed request was refused (safe to return to the caller); `code` says it in a word
    for metrics: `unsigned`, `timestamp`, `signature` or `not_configured`."""

    def __init__(self, message: str, *, code: str = "signature") -> None:
        super().__init__(message)
        self.code = code


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers a vendor sends; used by tests, the bench and the README's example."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secrets: Sequence[SecretStr],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> None:
    """Raise `SignatureRejected` unless one of `secrets` signed `body` within the tolerance."""
    if not secrets:
        raise SignatureRejected("webhook secrets are not configured", code="not_configured")
    if not timestamp or not signature:
        raise SignatureRejected(
            f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required", code="unsigned"
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureRejected(
            f"{TIMESTAMP_HEADER} must be unix seconds", code="timestamp"
        ) from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance_seconds:
        raise SignatureRejected(
            f"timestamp outside the {tolerance_seconds} s tolerance", code="timestamp"
        )
    matched = False
    for secret in secrets:
        expected = sign(secret.get_secret_value(), sent_at, body)
        # Compare against every secret, in constant time, so timing tells nothing.
        matched |= hmac.compare_digest(expected.encode(), signature.strip().encode())
    if not matched:
        raise SignatureRejected("signature does not match")
