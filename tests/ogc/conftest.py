"""OGC tests run on the incident fixtures too (the tiny county, an app, a reporting helper)."""

from tests.incidents.conftest import api, county, report

__all__ = ["api", "county", "report"]
