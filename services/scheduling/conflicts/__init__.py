"""Scheduling: conflicts (rules, use cases, routes)."""
