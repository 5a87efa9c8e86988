"""Reporting: live statistics from every event, conclusions, the action plan, the budget and the Memoria."""
