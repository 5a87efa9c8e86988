"""The programme's words people read (calendars): English here, the other languages from
`locale/<lang>.po` (msgctxt the word's key, msgid its English), through `shared.i18n.Words`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import i18n

WORDS: dict[str, Any] = {
    # A person's part in a session, as the calendar's description names it (never the code).
    "roles": {
        "speaker": "Speaker",
        "panelist": "Panellist",
        "moderator": "Moderator",
        "chair": "Chair",
        "rapporteur": "Rapporteur",
    },
    # The personal calendar's name, after the forum's.
    "my_agenda": "my agenda",
}

LOCALE_DIR = Path(__file__).with_name("locale")
SCHEDULING_WORDS = i18n.Words(WORDS, LOCALE_DIR)
