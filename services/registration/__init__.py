"""Registration: intake of sign-ups, validation, dedup, categories, capacity and waitlist."""
