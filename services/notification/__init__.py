"""Notification: e-mail and SMS from bilingual templates, reminders, campaigns, preferences,
retries with provider failover and delivery status."""
