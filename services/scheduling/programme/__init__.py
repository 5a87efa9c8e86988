"""Scheduling: programme (rules, use cases, routes)."""
