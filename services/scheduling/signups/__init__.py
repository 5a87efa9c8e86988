"""Scheduling: signups (rules, use cases, routes)."""
