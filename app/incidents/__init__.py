"""Incidents (事件): the closed loop from report to evaluation (docs/domain.md#incidents)."""
