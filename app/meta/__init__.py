"""Labels the pages show, served from the tables that define them (``GET /api/v1/meta``)."""
