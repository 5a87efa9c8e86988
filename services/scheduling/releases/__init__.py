"""Scheduling: releases (rules, use cases, routes)."""
