"""Incidents (事件): the closed loop from report to evaluation (DOMAIN.md §6)."""
