"""Unsubscribing in one click (RFC 8058): the signed, person-scoped link every non-essential
e-mail carries in `List-Unsubscribe`, and what it names.

The link is `<base>/unsubscribe?token=<signed person id>`; the token is signed with the link
secrets (`FORO_PARTICIPANT_TOKEN_SECRET`: the first signs, every one verifies, as for parties'
tokens) under a salt of its own, so it is good for nothing else, and it does not expire: a
campaign read months later still unsubscribes. A mail client POSTs
`List-Unsubscribe=One-Click` to it (no sign-in); a person who opens it sees a page saying what it
does, with the same button. Essential messages (confirmations, badges) carry no such header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "foro.notification.unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Mints and reads unsubscribe tokens; builds the RFC 2369 / RFC 8058 headers."""

    secrets: Sequence[str]
    base_url: str
    mailto: str | None = None

    def _serializer(self) -> URLSafeSerializer:
        # itsdangerous signs with the last key and verifies with every one: the secrets reversed.
        return URLSafeSerializer(list(reversed(self.secrets)), salt=SALT)

    def token(self, person_id: str) -> str:
        return str(self._serializer().dumps({"p": person_id}))

    def person_of(self, token: str) -> str | None:
        """The person a token names, or None for a token foro did not sign."""
        try:
            content = self._serializer().loads(token)
        except BadSignature:
            return None
        person = content.get("p") if isinstance(content, dict) else None
        return person if isinstance(person, str) and person else None

    def url(self, person_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/unsubscribe?token={quote(self.token(person_id))}"

    def headers(self, person_id: str) -> dict[str, str]:
        """`List-Unsubscribe` (the https link, and a mailto when one is set) and
        `List-Unsubscribe-Post` for one-click unsubscription."""
        targets = [f"<{self.url(person_id)}>"]
        if self.mailto:
            targets.append(f"<mailto:{self.mailto}?subject=unsubscribe>")
        return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": ONE_CLICK}


def unsubscribe_links(
    secrets: Sequence[str], base_url: str, mailto: str | None = None
) -> UnsubscribeLinks | None:
    """The links, or None without a link secret (then no e-mail offers one-click unsubscribe)."""
    if not secrets or not secrets[0]:
        return None
    return UnsubscribeLinks(tuple(secrets), base_url, mailto)
