"""identity: staff accounts, sign-in, API tokens (registration signs every token; see docs/access.md)."""
