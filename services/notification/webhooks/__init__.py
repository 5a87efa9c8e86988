"""Outbound webhooks: endpoints the secretariat registers receive the events they chose, signed
with Standard Webhooks, through notification's delivery pipeline (the same outbox, leases,
retries with backoff, delivery log and replay as e-mail and SMS). See docs/notification.md."""
