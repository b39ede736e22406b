"""Spatial coverage audits of grids (docs/domain.md#coverage-audits): the geometry findings, pure
and in memory.

>>> from gis.coverage import audit_coverage, CoverageTolerances
"""

from gis.coverage.audit import audit_coverage
from gis.coverage.findings import COLUMNS as FINDING_COLUMNS
from gis.coverage.findings import KINDS as FINDING_KINDS
from gis.coverage.tolerances import CoverageTolerances

__all__ = ["FINDING_COLUMNS", "FINDING_KINDS", "CoverageTolerances", "audit_coverage"]
