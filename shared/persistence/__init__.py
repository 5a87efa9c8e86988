"""MongoDB access shared by every service: client factory, idempotent single-document writes,
and the outbox those writes fill."""
