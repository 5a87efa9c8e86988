"""Person text in registration's contracts: one printable line, refused with the field's name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.contracts.registration import (
    FocalPoint,
    RegistrationCancelRequested,
    RegistrationSubmitted,
)
from shared.messaging.consumer import describe_validation_error
from tests.support.factories import FORUM_ID, signup

REFUSED = [
    "Ana\r\nBcc: x@example.org",
    "Ana\n",
    "\tAna",
    "A\x00na",
    "A\x1bna",
    "A\x7fna",
    "A\x85na",
    "\ud800",
    "Ana\udfff",
]


def reason(model: type, body: dict) -> str:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return describe_validation_error(refused.value)


@pytest.mark.parametrize("value", REFUSED)
@pytest.mark.parametrize("field", ["given_name", "family_name", "organisation", "job_title"])
def test_person_fields_refuse_control_characters_and_lone_surrogates(
    field: str, value: str
) -> None:
    text = reason(RegistrationSubmitted, signup(**{field: value}))
    assert text.startswith(f"{field}: must be one line of printable text")
    assert value.strip() not in text  # the rejected value (personal data) stays out of the reason


@pytest.mark.parametrize("value", ["Ana María", "Nguyễn Thị", "O'Brien-Núñez", "李 小龙", "Zoë 🙂"])
def test_ordinary_names_in_any_script_pass(value: str) -> None:
    assert RegistrationSubmitted.model_validate(signup(given_name=value)).given_name == value


def test_the_same_rule_guards_the_other_person_text_fields() -> None:
    assert reason(RegistrationSubmitted, signup(email="a\x00b@example.org")).startswith("email:")
    assert reason(RegistrationSubmitted, signup(email="a\ud800@example.org")).startswith("email:")
    assert reason(RegistrationSubmitted, signup(forum_id="foro\x00")).startswith("forum_id:")
    assert reason(FocalPoint, {"name": "Marta\nRivas", "email": "m@example.org"}).startswith(
        "name:"
    )


def test_free_text_keeps_line_breaks_but_refuses_other_controls() -> None:
    kept = RegistrationSubmitted.model_validate(
        signup(answers={"needs": "silla de ruedas\r\ny rampa\tok"})
    )
    assert kept.answers["needs"] == "silla de ruedas\r\ny rampa\tok"
    assert reason(RegistrationSubmitted, signup(answers={"needs": "a\x00b"})).startswith(
        "answers.needs:"
    )
    assert reason(RegistrationSubmitted, signup(answers={"needs": "\ud800"})).startswith(
        "answers.needs:"
    )
    cancel = {
        "event_type": "registration.cancel_requested",
        "producer": "t",
        "forum_id": FORUM_ID,
        "email": "a@example.org",
        "reason": "x\x00",
    }
    assert reason(RegistrationCancelRequested, cancel).startswith("reason:")
