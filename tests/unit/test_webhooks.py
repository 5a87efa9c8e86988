from __future__ import annotations

import pytest
from pydantic import SecretStr

from shared.webhooks import SignatureRejected, sign, verify

SECRETS = [SecretStr("current"), SecretStr("previous")]
BODY = b'{"a": 1}'


def test_either_rotation_secret_verifies() -> None:
    for secret in ("current", "previous"):
        verify(SECRETS, "1000", sign(secret, 1000, BODY), BODY, now=1000)


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "reason"),
    [
        ("1000", sign("other", 1000, BODY), 1000, "does not match"),
        ("1000", sign("current", 1000, BODY), 1301, "tolerance"),
        ("1000", sign("current", 999, BODY), 1000, "does not match"),  # timestamp is signed too
        (None, None, 1000, "required"),
        ("soon", "v1=00", 1000, "unix seconds"),
    ],
)
def test_refusals_say_why(timestamp, signature, now, reason) -> None:
    with pytest.raises(SignatureRejected, match=reason):
        verify(SECRETS, timestamp, signature, BODY, now=now)


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(SignatureRejected, match="not configured"):
        verify([], "1000", sign("", 1000, BODY), BODY, now=1000)
