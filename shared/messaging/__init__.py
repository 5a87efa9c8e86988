"""Broker topology, dead-lettering, the outbox relay and consumer helpers shared by every service."""
