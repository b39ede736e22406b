"""SQL pieces over buildings and the households in them, shared by the map layers and the visits map.

Buildings carry their community's code, not a grid's: a building (and each household, through its
building) lies in an ``AreaScope`` by that code, and in a grid-sized scope by its point lying in
that active grid.
"""

from __future__ import annotations

from app.auth.scope import AreaScope

GRID_CODE_LENGTH = 15


def community_filter(scope: AreaScope, community_code: str, point: str) -> str:
    """Text SQL (bind ``**scope.params()``): the row with ``community_code`` and ``point`` (column
    expressions) lies in ``scope``."""
    if len(scope.prefix) == GRID_CODE_LENGTH and not scope.everything:
        return (
            "EXISTS (SELECT 1 FROM grids sg WHERE sg.status = 'active' AND "
            f"{scope.sql('sg.code')} AND ST_Intersects(sg.geom, {point}))"
        )
    return scope.sql(community_code)
