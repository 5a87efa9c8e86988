"""Scheduling: people (rules, use cases, routes)."""
