"""Badge tokens (shared/badges.py): signed, forum-scoped, free of personal data."""

from __future__ import annotations

import base64
import json

import pytest
from pydantic import SecretStr

from shared.badges import BadgeTokenRefused, new_token_id, sign_badge_token, verify_badge_token

FORUM = "crm-foro-sector-privado-migraciones"


def test_a_signed_token_verifies_and_carries_only_forum_and_random_id() -> None:
    token_id = new_token_id()
    token = sign_badge_token(SecretStr("s3cret"), FORUM, token_id)

    verified = verify_badge_token([SecretStr("s3cret")], token, forum_id=FORUM)

    assert (verified.forum_id, verified.token_id) == (FORUM, token_id)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert payload == {"f": FORUM, "t": token_id, "v": 1}
    assert new_token_id() != token_id and len(token) < 200


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (
            lambda: sign_badge_token("s3cret", "otro-foro", "abcdefghijklmnopqrstuv"),
            "foreign_forum",
        ),
        (lambda: sign_badge_token("other-secret", FORUM, "abcdefghijklmnopqrstuv"), "forged_token"),
        (
            lambda: sign_badge_token("s3cret", FORUM, "abcdefghijklmnopqrstuv")[:-3] + "AAA",
            "forged_token",
        ),
        (lambda: "no-dot-here", "malformed_token"),
        (lambda: "a.b.c", "malformed_token"),
        (lambda: "%%%.###", "malformed_token"),
        (lambda: "x" * 500 + ".y", "malformed_token"),
    ],
)
def test_foreign_forged_and_malformed_tokens_are_refused_with_a_reason(token, code) -> None:
    with pytest.raises(BadgeTokenRefused) as refused:
        verify_badge_token(["s3cret"], token(), forum_id=FORUM)
    assert refused.value.code == code
    assert refused.value.message_es and refused.value.message_en


def test_a_modified_payload_is_refused_even_with_a_valid_looking_signature() -> None:
    token = sign_badge_token("s3cret", FORUM, "abcdefghijklmnopqrstuv")
    _payload, signature = token.split(".")
    other = (
        base64.urlsafe_b64encode(
            json.dumps({"f": FORUM, "t": "zzzzzzzzzzzzzzzzzzzzzz", "v": 1}).encode()
        )
        .decode()
        .rstrip("=")
    )
    with pytest.raises(BadgeTokenRefused) as refused:
        verify_badge_token(["s3cret"], f"{other}.{signature}", forum_id=FORUM)
    assert refused.value.code == "forged_token"


def test_during_a_rotation_the_old_secret_still_verifies() -> None:
    token = sign_badge_token("old", FORUM, "abcdefghijklmnopqrstuv")
    assert (
        verify_badge_token([SecretStr("new"), SecretStr("old")], token, forum_id=FORUM).token_id
        == "abcdefghijklmnopqrstuv"
    )
    with pytest.raises(ValueError):
        sign_badge_token("", FORUM, "abcdefghijklmnopqrstuv")
