"""One run of the partition over a work area: faces -> graph -> groups -> grid polygons + issues."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from . import _types as t
from ._faces import Faces, build_faces
from ._graph import NodeGraph, build_graph, components
from ._inputs import Buildings, Frame
from ._problem import Problem, edge_cost
from ._split import GRANULARITY, OVERSIZE, SMALL_REGION, divide


@dataclass
class Grid:
    kind: str
    faces: np.ndarray
    buildings: list[int]
    households: float
    issues: list[tuple[str, str, list[int]]] = field(default_factory=list)


@dataclass
class Run:
    """Grids built from faces (lon/lat), not yet ordered; plus buildings left outside."""

    grids: list[Grid]
    face_geoms: np.ndarray
    unplaced: np.ndarray
    graph: NodeGraph
    node_group: np.ndarray


def dedicated_owner(bld: Buildings, dedicated: np.ndarray, frame: Frame) -> np.ndarray:
    """Dedicated polygon holding each building (point inside, or most of the footprint), else -1."""
    owner = np.full(len(bld), -1, dtype=np.int64)
    if not len(dedicated) or not len(bld):
        return owner
    bi, di = shapely.STRtree(dedicated).query(bld.geoms, predicate="intersects")
    pts = bld.is_point[bi]
    inside = np.zeros(len(bi), dtype=bool)
    inside[pts] = shapely.within(bld.geoms[bi[pts]], dedicated[di[pts]])
    fp = ~pts
    if np.any(fp):
        part = shapely.area(frame.to_m(shapely.intersection(bld.geoms[bi[fp]], dedicated[di[fp]])))
        whole = shapely.area(frame.to_m(bld.geoms[bi[fp]]))
        inside[fp] = part > 0.5 * whole
    owner[bi[inside]] = di[inside]
    return owner


@dataclass
class Prepared:
    """The work area as faces and as a building graph, before any division."""

    faces: Faces
    graph: NodeGraph
    owner: np.ndarray  # dedicated polygon of each building, or -1

    def problem(self, target: float, lo: float, hi: float) -> Problem:
        g = self.graph
        return Problem(
            w=g.households,
            xy=g.xy,
            area=g.area,
            eu=g.eu,
            ev=g.ev,
            cost=edge_cost(g.elen, g.ebarrier),
            barrier=g.barrier_edge(),
            target=target,
            lo=lo,
            hi=hi,
        )


def prepare(
    area: BaseGeometry, frame: Frame, bld: Buildings, dedicated: np.ndarray, barriers: np.ndarray
) -> Prepared:
    """Faces and building graph of ``area`` (lon/lat) around ``dedicated`` polygons (disjoint, inside)."""
    owner = dedicated_owner(bld, dedicated, frame)
    faces = build_faces(area, frame, bld, owner, dedicated, barriers)
    return Prepared(faces, build_graph(faces, bld, owner), owner)


def run(
    area: BaseGeometry,
    frame: Frame,
    bld: Buildings,
    dedicated: np.ndarray,
    barriers: np.ndarray,
    target: float,
    lo: float,
    hi: float,
) -> Run:
    """Partition ``area`` (lon/lat) around ``dedicated`` polygons (disjoint, inside the area)."""
    prep = prepare(area, frame, bld, dedicated, barriers)
    faces, graph, owner = prep.faces, prep.graph, prep.owner
    problem = prep.problem(target, lo, hi)
    node_group = np.full(graph.n, -1, dtype=np.int64)
    grids: list[Grid] = []
    for c in range(int(graph.component.max()) + 1 if graph.n else 0):
        nodes = np.flatnonzero(graph.component == c)
        division = divide(problem.subset(nodes))
        node_group[nodes] = division.labels + len(grids)
        for g in range(int(division.labels.max()) + 1):
            members = nodes[division.labels == g]
            blds = sorted(b for v in members.tolist() for b in graph.buildings[v])
            grid = Grid(
                "comprehensive", np.empty(0, np.int64), blds, float(graph.households[members].sum())
            )
            _band_issue(grid, division.reasons.get(g), bld, lo, hi)
            grids.append(grid)
    face_group = np.append(node_group, -1)[graph.face_node]  # face_node -1 picks the appended -1
    for j in range(len(dedicated)):
        face_group[faces.dedicated == j] = len(grids)
        blds = np.flatnonzero(owner == j).tolist()
        grids.append(
            Grid("dedicated", np.empty(0, np.int64), blds, float(bld.households[blds].sum()))
        )
    _place_empty_land(faces, face_group, grids)
    for g, grid in enumerate(grids):
        grid.faces = np.flatnonzero(face_group == g)
    _barrier_issues(graph, node_group, problem.barrier, grids)
    return Run(grids, faces.geoms, graph.unplaced, graph, node_group)


def _band_issue(grid: Grid, reason: str | None, bld: Buildings, lo: float, hi: float) -> None:
    hh = grid.households
    if reason is None:
        return
    if reason == OVERSIZE:
        big = [b for b in grid.buildings if bld.households[b] > hi]
        extra = hh - float(bld.households[big].sum())
        msg = f"该建筑有 {fmt(hh - extra)} 户，超过每格上限 {fmt(hi)} 户，单独划为一个网格"
        if extra > 0:
            msg += f"（另含被其隔断的 {fmt(extra)} 户）"
        grid.issues.append((t.OVERSIZE_BUILDING, msg, big))
    elif reason == SMALL_REGION:
        grid.issues.append(
            (
                t.BAND_INFEASIBLE,
                f"该片区共 {fmt(hh)} 户，低于下限 {fmt(lo)} 户：整个社区户数不足，或该片区被社区边界、"
                "专属网格或超大建筑与其他建筑隔开，无法合并成达标网格",
                grid.buildings,
            )
        )
    elif reason == GRANULARITY:
        side = "低于下限" if hh < lo else "高于上限"
        bound = lo if hh < lo else hi
        grid.issues.append(
            (
                t.BAND_INFEASIBLE,
                f"网格有 {fmt(hh)} 户，{side} {fmt(bound)} 户：按整栋建筑划分、保持网格连片时无法调整到区间内",
                grid.buildings,
            )
        )


def fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _place_empty_land(faces: Faces, face_group: np.ndarray, grids: list[Grid]) -> None:
    """Land reaching no building: join the dedicated grid it borders most, else a grid of its own."""
    empty = face_group < 0
    if not np.any(empty):
        return
    ea, eb = faces.adj_a, faces.adj_b
    both = empty[ea] & empty[eb]
    comp = components(len(face_group), ea[both], eb[both])
    for c in np.unique(comp[empty]).tolist():
        members = np.flatnonzero(empty & (comp == c))
        inside = np.zeros(len(face_group), dtype=bool)
        inside[members] = True
        touch = inside[ea] != inside[eb]
        other = np.where(inside[ea[touch]], eb[touch], ea[touch])
        groups = face_group[other]
        lengths = faces.adj_len[touch]
        ded = np.array(
            [g >= 0 and grids[g].kind == "dedicated" for g in groups.tolist()], dtype=bool
        )
        area = float(faces.area[members].sum())
        if np.any(ded):
            best = np.bincount(groups[ded], weights=lengths[ded])
            face_group[members] = int(np.argmax(best))
            continue
        face_group[members] = len(grids)
        grid = Grid("comprehensive", np.empty(0, np.int64), [], 0.0)
        grid.issues.append(
            (
                t.EMPTY_AREA,
                f"这块约 {area:.0f} 平方米的区域内没有住户建筑，也不与其他网格相连，单独成格（0 户）",
                [],
            )
        )
        grids.append(grid)


def _barrier_issues(
    graph: NodeGraph,
    node_group: np.ndarray,
    barrier_edge: np.ndarray,
    grids: list[Grid],
) -> None:
    inner = barrier_edge & (node_group[graph.eu] == node_group[graph.ev])
    for g in np.unique(node_group[graph.eu[inner]]).tolist():
        sel = inner & (node_group[graph.eu] == g)
        count = int(sel.sum())
        blds = sorted(
            {
                b
                for v in np.concatenate([graph.eu[sel], graph.ev[sel]]).tolist()
                for b in graph.buildings[v]
            }
        )
        grids[g].issues.append(
            (
                t.BARRIER_CROSSED,
                f"网格跨越道路、河流或围墙（{count} 处相邻建筑隔线相望）：在整栋建筑、户数区间和连片的约束下未能避开",
                blds,
            )
        )


def grid_geometry(run_: Run, grid: Grid) -> BaseGeometry:
    """Exact union of a grid's faces (they form a valid coverage, so the cheap coverage union is exact)."""
    return shapely.coverage_union_all(run_.face_geoms[grid.faces])


def finish(
    geoms: list[BaseGeometry],
    kinds: list[str],
    households: list[float],
    building_ids: list[list[object]],
    issue_lists: list[list[tuple[str, str, list[object]]]],
    extra_issues: list[t.PartitionIssue],
    frame: Frame,
    band: tuple[float, float],
    extra_columns: dict[str, list[object]] | None = None,
) -> t.PartitionResult:
    """Order grids (comprehensive first, then west to east within north-to-south bands), build the result."""
    geo = np.asarray(geoms, dtype=object)
    metric = frame.to_m(geo)
    area = shapely.area(metric)
    perimeter = shapely.length(metric)
    compact = np.where(perimeter > 0, 4 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2, 0.0)
    cxy = shapely.get_coordinates(shapely.point_on_surface(metric))
    pieces = shapely.get_num_geometries(geo)  # a one-part MultiPolygon (as stored) is contiguous
    order = _serial_order(cxy, np.array([k != "comprehensive" for k in kinds]), float(area.sum()))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    issues = list(extra_issues)
    for g in order.tolist():
        for kind, msg, blds in issue_lists[g]:
            issues.append(t.PartitionIssue(kind, msg, tuple(blds), int(rank[g])))
        if pieces[g] != 1:
            issues.append(
                t.PartitionIssue(
                    t.NOT_CONTIGUOUS,
                    "网格不连片（由多块组成），通常因输入建筑轮廓本身分成多块",
                    tuple(building_ids[g]),
                    int(rank[g]),
                )
            )
    data: dict[str, object] = {
        "index": np.arange(len(order)),
        "kind": [kinds[g] for g in order],
        "households": [households[g] for g in order],
        "building_ids": [list(building_ids[g]) for g in order],
        "compactness": compact[order],
    }
    for name, values in (extra_columns or {}).items():
        data[name] = [values[g] for g in order]
    grids = gpd.GeoDataFrame(data, geometry=list(geo[order]), crs=4490)
    comprehensive = grids["kind"] == "comprehensive"
    in_band = grids["households"].between(*band) & (pieces[order] == 1)
    feasible = bool(in_band[comprehensive].all()) and not any(
        i.kind in t.INFEASIBLE_KINDS for i in issues
    )
    return t.PartitionResult(grids=grids, issues=issues, feasible=feasible)


def _serial_order(xy: np.ndarray, later: np.ndarray, total_area: float) -> np.ndarray:
    """Grid order as codes are issued (docs/domain.md#hierarchy-and-codes): bands north to south,
    west to east in a band."""
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    band = max(np.sqrt(total_area / len(xy)), 1.0)
    row = np.floor((xy[:, 1].max() - xy[:, 1]) / band)
    return np.lexsort((xy[:, 0], row, later))
