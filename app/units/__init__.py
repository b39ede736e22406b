"""Responsible units (责任单位), their staff and the routing table (docs/domain.md#responsible-units)."""
