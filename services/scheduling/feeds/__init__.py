"""Scheduling: feeds (rules, use cases, routes)."""
