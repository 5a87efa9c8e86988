"""Signed webhooks (shared/webhooks.py): the Standard Webhooks test vectors, rotation, refusals
that say why, and the first scheme's window."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

from shared.webhooks import (
    SignatureRejected,
    legacy_sign,
    new_secret,
    secret_key,
    sign,
    signed_headers,
    vendor_secret,
    verify_legacy,
    verify_request,
    verify_standard,
)

# The specification's vectors (standard-webhooks/standard-webhooks, libraries/*/tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRETS = [SecretStr("current"), SecretStr("previous")]
BODY = b'{"a": 1}'


def vector_headers(**changes: str) -> dict[str, str]:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    return headers | changes


def test_the_specifications_vector_is_signed_and_verified() -> None:
    assert sign([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    assert (
        verify_standard([VECTOR_SECRET], vector_headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP)
        == VECTOR_ID
    )
    # The same key without the prefix, and header names in any case.
    unprefixed = VECTOR_SECRET.removeprefix("whsec_")
    upper = {k.upper(): v for k, v in vector_headers().items()}
    assert sign(unprefixed, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) != VECTOR_SIGNATURE  # text
    assert secret_key(VECTOR_SECRET) == base64.b64decode(unprefixed)
    verify_standard([SecretStr(VECTOR_SECRET)], upper, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("headers", "now", "reason"),
    [
        (
            vector_headers(
                **{"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="}
            ),
            VECTOR_TIMESTAMP,
            "does not match",
        ),
        (vector_headers(**{"webhook-id": "msg_other"}), VECTOR_TIMESTAMP, "does not match"),
        (vector_headers(), VECTOR_TIMESTAMP + 301, "tolerance"),
        (vector_headers(), VECTOR_TIMESTAMP - 301, "tolerance"),
        (vector_headers(**{"webhook-timestamp": "hello"}), VECTOR_TIMESTAMP, "unix seconds"),
        (vector_headers(**{"webhook-signature": "v2,abc"}), VECTOR_TIMESTAMP, "no v1 signature"),
        (
            {"webhook-id": VECTOR_ID},
            VECTOR_TIMESTAMP,
            "webhook-timestamp, webhook-signature missing",
        ),
    ],
)
def test_standard_refusals_say_why(headers: dict[str, str], now: int, reason: str) -> None:
    with pytest.raises(SignatureRejected, match=reason):
        verify_standard([VECTOR_SECRET], headers, VECTOR_BODY, now=now)


def test_several_signatures_one_of_them_good_pass() -> None:
    signatures = " ".join(
        ["v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", "v2,xyz", VECTOR_SIGNATURE]
    )
    headers = vector_headers(**{"webhook-signature": signatures})
    verify_standard([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_during_a_rotation_either_secret_verifies_and_the_sender_signs_with_both() -> None:
    for secret in ("current", "previous"):
        headers = signed_headers(secret, BODY, timestamp=1000)
        verify_standard(SECRETS, headers, BODY, now=1000)
    both = signed_headers(SECRETS, BODY, timestamp=1000)
    assert both["webhook-signature"].count("v1,") == 2
    verify_standard([SecretStr("previous")], both, BODY, now=1000)


def test_a_vendor_secret_works_in_the_reference_library() -> None:
    """What a vendor is given (`whsec_…`) signs, in the specification's own library, what foro
    verifies with the configured text secret."""
    headers = signed_headers("current", BODY)
    Webhook(vendor_secret("current")).verify(BODY, headers)
    fresh = new_secret()
    assert fresh.startswith("whsec_") and len(secret_key(fresh)) == 24
    assert vendor_secret(fresh) == fresh


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(SignatureRejected, match="not configured"):
        verify_standard([], signed_headers("x", BODY), BODY)


def test_the_first_scheme_is_accepted_until_its_end_date_then_refused_saying_so() -> None:
    headers = {"X-Foro-Timestamp": "1000", "X-Foro-Signature": legacy_sign("current", 1000, BODY)}
    day = date(1970, 1, 1)  # 1000 s after the epoch
    verified = verify_request(SECRETS, headers, BODY, legacy_until=day, now=1000)
    assert verified.scheme == "legacy"
    with pytest.raises(SignatureRejected, match="ended on 1969-12-31") as ended:
        verify_request(SECRETS, headers, BODY, legacy_until=date(1969, 12, 31), now=1000)
    assert ended.value.code == "legacy_ended"
    with pytest.raises(SignatureRejected, match="ended already"):
        verify_request(SECRETS, headers, BODY, legacy_until=None, now=1000)
    # Standard headers win when both are sent; nothing signed at all asks for Standard Webhooks.
    both = headers | signed_headers("current", BODY, timestamp=1000)
    assert verify_request(SECRETS, both, BODY, legacy_until=None, now=1000).scheme == "standard"
    with pytest.raises(SignatureRejected, match="Standard Webhooks") as unsigned:
        verify_request(SECRETS, {}, BODY, legacy_until=day, now=1000)
    assert unsigned.value.code == "unsigned"


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "reason"),
    [
        ("1000", legacy_sign("other", 1000, BODY), 1000, "does not match"),
        ("1000", legacy_sign("current", 1000, BODY), 1301, "tolerance"),
        ("1000", legacy_sign("current", 999, BODY), 1000, "does not match"),
        (None, None, 1000, "required"),
        ("soon", "v1=00", 1000, "unix seconds"),
    ],
)
def test_the_first_schemes_refusals_say_why(timestamp, signature, now, reason) -> None:
    with pytest.raises(SignatureRejected, match=reason):
        verify_legacy(SECRETS, timestamp, signature, BODY, now=now)
