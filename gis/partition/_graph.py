"""From labelled faces to the building graph the partition works on.

A node is one building (or a few that cannot be told apart) together with the land nearest to it; an
edge joins two nodes whose land shares a boundary, weighted by the shared length in metres and by how
much of it runs along a barrier. Land that no building claims on its own side of a barrier (an
"orphan") joins the neighbour it shares the longest boundary with, preferring neighbours that are not
across a barrier, so every node is one connected piece of land.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ._faces import Faces
from ._inputs import Buildings


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (0..c-1, in order of smallest node) of n nodes joined by edges a-b.

    Vectorised hooking and pointer jumping (Shiloach-Vishkin style): every round links each edge's
    larger root under the smaller one and then halves all paths, so a few rounds suffice even for
    long chains; this runs on every candidate split, where a Python union-find was the bottleneck.
    """
    label = np.arange(n, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while len(a):
        la, lb = label[a], label[b]
        differ = la != lb
        if not np.any(differ):
            break
        la, lb = la[differ], lb[differ]
        lo, hi = np.minimum(la, lb), np.maximum(la, lb)
        np.minimum.at(label, hi, lo)  # hook roots (labels are always roots after jumping)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        a, b = a[differ], b[differ]
    return np.unique(label, return_inverse=True)[1].ravel()


def aggregate_pairs(a: np.ndarray, b: np.ndarray, *weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unique unordered pairs (a < b) with each weight summed over duplicates; self-pairs dropped."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    if not np.any(keep):
        return (np.empty(0, np.int64), np.empty(0, np.int64), *(np.empty(0) for _ in weights))
    pair, inv = np.unique(np.column_stack([lo[keep], hi[keep]]), axis=0, return_inverse=True)
    inv = inv.ravel()
    sums = [np.bincount(inv, weights=w[keep], minlength=len(pair)) for w in weights]
    return (pair[:, 0], pair[:, 1], *sums)


@dataclass
class NodeGraph:
    """Buildings with their land, and which node touches which.

    ``face_node[f]`` is the node holding face ``f``, or -1 (a dedicated face, or land that reaches
    no building at all). Edge arrays hold pairs ``u < v``.
    """

    face_node: np.ndarray
    households: np.ndarray
    buildings: list[list[int]]
    xy: np.ndarray
    area: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    elen: np.ndarray
    ebarrier: np.ndarray
    component: np.ndarray
    unplaced: np.ndarray  # building rows (not in a dedicated grid) that reach no face of the area

    @property
    def n(self) -> int:
        return len(self.households)

    def barrier_edge(self) -> np.ndarray:
        return self.ebarrier > 0.5 * self.elen


def build_graph(faces: Faces, bld: Buildings, bld_dedicated: np.ndarray) -> NodeGraph:
    """Group faces into building nodes and measure node adjacency."""
    nf = len(faces)
    free = faces.dedicated < 0
    ea, eb = faces.adj_a, faces.adj_b
    lab = faces.building
    barrier = faces.adj_barrier > 0.5 * faces.adj_len
    both_fp = faces.footprint[ea] & faces.footprint[eb]  # a footprint cut by a road stays whole
    joined = free[ea] & free[eb] & (lab[ea] == lab[eb]) & (~barrier | both_fp)
    atom = components(nf, ea[joined], eb[joined])
    n_atoms = int(atom.max()) + 1 if nf else 0

    home_b, home_atom = _homes(faces, bld, bld_dedicated, atom)
    # Atoms that share a building are one node (a footprint crossed by a barrier, duplicate points).
    home_atoms = np.unique(home_atom)
    local = np.searchsorted(home_atoms, home_atom)
    order = np.argsort(home_b, kind="stable")
    hb, ha = home_b[order], local[order]
    same_b = hb[:-1] == hb[1:]
    node_local = components(len(home_atoms), ha[:-1][same_b], ha[1:][same_b])
    atom_node = np.full(n_atoms, -1, dtype=np.int64)
    atom_node[home_atoms] = node_local

    # Atom adjacency, free land only.
    fa_free = free[ea] & free[eb]
    aa, ab, alen, abar = aggregate_pairs(
        atom[ea[fa_free]], atom[eb[fa_free]], faces.adj_len[fa_free], faces.adj_barrier[fa_free]
    )
    _adopt_orphans(atom_node, aa, ab, alen, abar > 0.5 * alen)

    face_node = np.where(free, atom_node[atom], -1)
    n_nodes = int(node_local.max()) + 1 if len(node_local) else 0
    households = np.zeros(n_nodes)
    buildings: list[list[int]] = [[] for _ in range(n_nodes)]
    b_node = atom_node[home_atom]
    for b, nd in sorted(set(zip(home_b.tolist(), b_node.tolist(), strict=True))):
        buildings[nd].append(b)
        households[nd] += bld.households[b]
    placed = face_node >= 0
    area = np.bincount(face_node[placed], weights=faces.area[placed], minlength=n_nodes)
    cx = np.bincount(
        face_node[placed], weights=faces.area[placed] * faces.centroid[placed, 0], minlength=n_nodes
    )
    cy = np.bincount(
        face_node[placed], weights=faces.area[placed] * faces.centroid[placed, 1], minlength=n_nodes
    )
    xy = np.column_stack([cx, cy]) / np.maximum(area, 1e-9)[:, None]

    both = (face_node[ea] >= 0) & (face_node[eb] >= 0)
    eu, ev, elen, ebar = aggregate_pairs(
        face_node[ea[both]], face_node[eb[both]], faces.adj_len[both], faces.adj_barrier[both]
    )
    comp = components(n_nodes, eu, ev)
    wanted = np.flatnonzero(bld_dedicated < 0)
    unplaced = np.setdiff1d(wanted, home_b)
    return NodeGraph(face_node, households, buildings, xy, area, eu, ev, elen, ebar, comp, unplaced)


def _homes(
    faces: Faces, bld: Buildings, bld_dedicated: np.ndarray, atom: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(building row, atom) pairs: the atoms holding each building's footprint or point."""
    fp = np.flatnonzero(faces.footprint)
    hb = [faces.building[fp]]
    ha = [atom[fp]]
    pts = np.flatnonzero(bld.is_point & (bld_dedicated < 0))
    if len(pts) and len(faces):
        pi, fi = shapely.STRtree(faces.geoms).query(bld.geoms[pts], predicate="intersects")
        fi = np.where(faces.dedicated[fi] < 0, fi, -1)
        # Prefer the face labelled with the building itself (a point on an edge touches several).
        own = faces.building[np.maximum(fi, 0)] == pts[pi]
        order = np.lexsort((~own, fi < 0, pi))
        pi, fi = pi[order], fi[order]
        first = np.unique(pi, return_index=True)[1]
        pi, fi = pi[first], fi[first]
        ok = fi >= 0
        hb.append(pts[pi[ok]])
        ha.append(atom[fi[ok]])
    home_b = np.concatenate(hb).astype(np.int64)
    home_a = np.concatenate(ha).astype(np.int64)
    pair = np.unique(np.column_stack([home_b, home_a]), axis=0)
    return pair[:, 0], pair[:, 1]


def _adopt_orphans(
    atom_node: np.ndarray, a: np.ndarray, b: np.ndarray, length: np.ndarray, barrier: np.ndarray
) -> None:
    """Give every orphan atom to the adjacent node it shares most boundary with (in place).

    First only across ordinary boundaries, so land stays on its own side of a road; then across
    barriers, for blocks that hold no building at all.
    """
    for allow_barrier in (False, True):
        usable = np.ones(len(a), dtype=bool) if allow_barrier else ~barrier
        while True:
            na, nb = atom_node[a], atom_node[b]
            one = usable & ((na < 0) != (nb < 0))
            if not np.any(one):
                break
            orphan = np.where(na[one] < 0, a[one], b[one])
            target = np.where(na[one] < 0, nb[one], na[one])
            w = length[one]
            # Sum the shared length per (orphan, node), then keep the longest per orphan.
            key, inv = np.unique(np.column_stack([orphan, target]), axis=0, return_inverse=True)
            tot = np.bincount(inv.ravel(), weights=w)
            order = np.lexsort((-tot, key[:, 0]))
            key = key[order]
            first = np.unique(key[:, 0], return_index=True)[1]
            atom_node[key[first, 0]] = key[first, 1]
