"""Scheduling: the forum's programme, conflict-free, published in versions, in everyone's calendar."""
