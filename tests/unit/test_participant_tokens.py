from __future__ import annotations

from shared.participant_tokens import mint, verify

PID = "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"


def test_participant_tokens_are_bound_to_the_id_and_off_without_a_secret() -> None:
    token = mint("s3cret", PID)
    assert verify("s3cret", token) == PID
    assert verify("other", token) is None
    assert verify("s3cret", token.replace(PID, "4e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11")) is None
    assert verify("", token) is None
    assert verify("s3cret", "not-a-uuid.abc") is None
