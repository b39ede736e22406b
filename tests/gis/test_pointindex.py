"""PolygonIndex against plain shapely answers on a Voronoi coverage (known by construction)."""

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from gis.pointindex import PolygonIndex


@pytest.fixture(scope="module")
def coverage():
    rng = np.random.default_rng(3)
    env = box(113.0, 34.0, 113.2, 34.15)
    seeds = shapely.points(rng.uniform(113.0, 113.2, 400), rng.uniform(34.0, 34.15, 400))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=env))
    polys = list(shapely.intersection(cells, env))
    return polys, PolygonIndex(polys, edge_distance_m=20.0)


def _reference(polys, x, y):  # type: ignore[no-untyped-def]
    tree = shapely.STRtree(polys)
    pt, poly = tree.query(shapely.points(x, y), predicate="intersects")
    ref = np.full(len(x), -1)
    order = np.lexsort((poly, pt))
    pt, poly = pt[order], poly[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    ref[pt[first]] = poly[first]
    return ref


def test_batch_and_single_lookups_agree_with_shapely_everywhere(coverage):
    polys, index = coverage
    rng = np.random.default_rng(4)
    # Some points fall outside the coverage's extent on purpose.
    x, y = rng.uniform(112.99, 113.21, 60_000), rng.uniform(33.99, 34.16, 60_000)
    ref = _reference(polys, x, y)
    assert (index.locate(x, y) == ref).all()
    assert [index.locate_one(a, b) for a, b in zip(x[:5000], y[:5000], strict=True)] == ref[
        :5000
    ].tolist()


def test_points_on_vertices_and_shared_edges_are_found(coverage):
    polys, index = coverage
    xy = shapely.get_coordinates(polys[0])
    found = index.locate(xy[:, 0], xy[:, 1])
    assert (found >= 0).all()  # a vertex belongs to some grid (the lowest index that touches it)
    assert (found == _reference(polys, xy[:, 0], xy[:, 1])).all()


def test_every_point_within_the_edge_distance_is_flagged(coverage):
    _, index = coverage
    rng = np.random.default_rng(5)
    x, y = rng.uniform(113.0, 113.2, 20_000), rng.uniform(34.0, 34.15, 20_000)
    owner = index.locate(x, y)
    exact = np.array(
        [index.edge_distance_m(int(i), a, b) for i, a, b in zip(owner, x, y, strict=True)]
    )
    flagged = np.array([index.is_near_edge_cell(a, b) for a, b in zip(x, y, strict=True)])
    assert not ((exact <= 20.0) & ~flagged).any()
    assert 0.02 < (exact <= 20.0).mean() < flagged.mean() < 0.6  # a pre-filter, not everything
    vector = index.edge_distances_m(owner.astype(np.int32), x, y)
    near = exact <= 20.0
    assert np.allclose(vector[near], exact[near], atol=0.1)  # linearised vs exact GK: centimetres


def test_nearest_polygon_and_distance_outside(coverage):
    polys, index = coverage
    i, d = index.nearest(113.1, 33.999)  # ~111 m south of the coverage
    assert polys[i].intersects(shapely.box(113.0, 34.0, 113.2, 34.0001))
    assert 105 < d < 115


def test_invalid_polygon_is_refused():
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="invalid"):
        PolygonIndex([bowtie])
