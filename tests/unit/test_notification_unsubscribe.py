"""The one-click unsubscribe link: signed for one person, verified across a secret rotation, good
for nothing else; its headers written by both ways foro builds an e-mail."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from services.notification.people.unsubscribe import UnsubscribeLinks, unsubscribe_links
from services.notification.providers import Outgoing
from services.notification.smtp import email_bytes, email_message

LINKS = UnsubscribeLinks(("new-secret",), "https://foro.example.org/notification/")


def test_a_token_names_its_person_and_only_foro_can_make_one() -> None:
    token = LINKS.token("p-1")
    assert LINKS.person_of(token) == "p-1"
    assert LINKS.person_of(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert UnsubscribeLinks(("other",), "https://x").person_of(token) is None
    assert LINKS.person_of("not-a-token") is None


def test_a_rotation_keeps_old_links_working() -> None:
    old = UnsubscribeLinks(("old-secret",), "https://x").token("p-2")
    rotated = UnsubscribeLinks(("new-secret", "old-secret"), "https://x")
    assert rotated.person_of(old) == "p-2"
    assert LINKS.person_of(rotated.token("p-2")) == "p-2"  # the first secret signs


def test_the_headers_follow_rfc_8058() -> None:
    headers = UnsubscribeLinks(("s",), "https://f.example/n", "baja@f.example").headers("p-3")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link, mail = headers["List-Unsubscribe"].split(", ")
    assert link.startswith("<https://f.example/n/unsubscribe?token=") and link.endswith(">")
    assert mail == "<mailto:baja@f.example?subject=unsubscribe>"
    assert (
        "List-Unsubscribe" in LINKS.headers("p")
        and ", " not in LINKS.headers("p")["List-Unsubscribe"]
    )
    assert LINKS.url("p").startswith("https://foro.example.org/notification/unsubscribe?token=")


def test_no_link_secret_no_links() -> None:
    assert unsubscribe_links([], "https://x") is None
    assert unsubscribe_links([""], "https://x") is None


def test_both_e_mail_builders_write_the_headers() -> None:
    headers = LINKS.headers("p-4")
    message = Outgoing(
        message_id="00000000-0000-0000-0000-000000000001",
        to="ana@example.org",
        subject="Horario",
        text="Hola",
        html="<p>Hola</p>",
        headers=headers,
    )
    for raw in (
        email_bytes(message, "Foro <f@x.org>"),
        email_message(message, "f@x.org").as_bytes(),
    ):
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert (
            str(parsed["List-Unsubscribe"]).replace("\r\n", "").replace("\n", "").strip()
            == headers["List-Unsubscribe"]
        )
    plain = Outgoing(message_id="00000000-0000-0000-0000-000000000002", to="a@x.org", text="t")
    parsed = BytesParser(policy=policy.default).parsebytes(email_bytes(plain, "f@x.org"))
    assert parsed["List-Unsubscribe"] is None
