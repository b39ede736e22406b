"""Pure spatial algorithms for gridgov.

Nothing in this package imports fastapi, sqlalchemy or ``app``: shapely, geopandas, pyproj and numpy
in, the same out. The service layer calls into it; it never calls back.
"""
