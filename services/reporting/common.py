"""What every capability of reporting shares in its rules: who publishes, how a rule refuses."""

from __future__ import annotations

PRODUCER = "reporting"


class RuleViolation(Exception):
    """A request the rules refuse (wrong state, unknown line…): the API answers 404/409/422 with
    it; an event the rules refuse is dead-lettered with it."""

    @property
    def not_found(self) -> bool:
        return str(self).endswith("not found")
