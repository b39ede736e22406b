"""One balanced bisection of a connected node set into two contiguous sides.

Given k grids to make, one side must hold k1 of them (k1 = k // 2) and so between
max(k1*lo, W - k2*hi) and min(k1*hi, W - k2*lo) households. Candidates are straight sweeps in 12
directions, over single nodes and over whole blocks (nodes joined without crossing a barrier, so a
split can run exactly along a road). Along one sweep every prefix is a candidate, and the cut cost
of all prefixes comes from one difference array: an edge is cut by every prefix length between the
ranks of its ends. The best candidates are made contiguous (stray pieces change sides) and
rescored; if none survives, a BFS spanning tree is cut at one edge, which leaves both sides
connected by construction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from ._graph import components
from ._problem import BAND_PENALTY, BAND_STEP, Problem

_ANGLES = np.linspace(0.0, np.pi, 12, endpoint=False)
_SWEEP_BALANCE = 1.0  # |households - ideal| / (households per grid), against cut / sqrt(area)
_PER_SWEEP = 3
_VALID = 3
_MAX_CHECKS = 24

Score = Callable[[float, float, int], float]


def bisect(p: Problem, nodes: np.ndarray, k: int) -> tuple[np.ndarray, int] | None:
    """Boolean mask over ``nodes`` of the side that gets ``kp`` grids, and ``kp``; None if impossible."""
    s = len(nodes)
    if s < 2 or k < 2:
        return None
    local = np.full(len(p.w), -1, dtype=np.int64)
    local[nodes] = np.arange(s)
    inside = (local[p.eu] >= 0) & (local[p.ev] >= 0)
    lu, lv = local[p.eu[inside]], local[p.ev[inside]]
    cost, barrier = p.cost[inside], p.barrier[inside]
    w, xy = p.w[nodes], p.xy[nodes]
    total = float(w.sum())
    unit = max(total / k, 1.0)
    scale = max(float(np.sqrt(p.area[nodes].sum())), 1.0)
    k1 = k // 2
    sides = [(k1, k - k1)] if 2 * k1 == k else [(k1, k - k1), (k - k1, k1)]

    def bounds(kp: int) -> tuple[float, float]:
        return max(kp * p.lo, total - (k - kp) * p.hi), min(kp * p.hi, total - (k - kp) * p.lo)

    def score(weight: float, cut: float, kp: int) -> float:
        lo_w, hi_w = bounds(kp)
        viol = max(0.0, lo_w - weight) + max(0.0, weight - hi_w)
        return (
            cut / scale
            + _SWEEP_BALANCE * abs(weight - total * kp / k) / unit
            + BAND_PENALTY * viol / unit
            + BAND_STEP * (viol > 0)
        )

    orders, allowed = _sweep_orders(xy, components(s, lu[~barrier], lv[~barrier]))
    prefix, cut = _prefix_cuts(orders, w, lu, lv, cost)
    n_top = min(_PER_SWEEP, s - 1)
    candidates: list[tuple[float, int, int, int]] = []
    for kp, _ in sides:
        lo_w, hi_w = bounds(kp)
        viol = np.maximum(0.0, lo_w - prefix) + np.maximum(0.0, prefix - hi_w)
        sc = cut / scale + _SWEEP_BALANCE * np.abs(prefix - total * kp / k) / unit
        sc += BAND_PENALTY * viol / unit + BAND_STEP * (viol > 0)
        sc[~allowed] = np.inf
        top = (
            np.argpartition(sc, n_top - 1, axis=1)[:, :n_top]
            if n_top < s - 1
            else np.tile(np.arange(s - 1), (len(sc), 1))
        )
        rows = np.repeat(np.arange(len(sc)), top.shape[1])
        picked = sc[rows, top.ravel()]
        candidates += [
            (float(v), kp, int(i) + 1, int(r))
            for v, i, r in zip(picked.tolist(), top.ravel().tolist(), rows.tolist(), strict=True)
            if v < np.inf
        ]
    candidates.sort(key=lambda c: (c[0], c[2], c[3]))  # ties broken by position: deterministic

    found: list[tuple[float, np.ndarray, int]] = []
    for _, kp, cut_at, row in candidates[:_MAX_CHECKS]:
        side = np.zeros(s, dtype=bool)
        side[orders[row, :cut_at]] = True
        fixed = _make_contiguous(side, w, lu, lv)
        if fixed is None:
            continue
        found.append(
            (score(float(w[fixed].sum()), float(cost[fixed[lu] != fixed[lv]].sum()), kp), fixed, kp)
        )
        if len(found) >= _VALID:
            break
    if not found:
        tree = _tree_split(w, xy, lu, lv, [kp for kp, _ in sides], score)
        if tree is None:
            return None
        found.append(
            (
                score(
                    float(w[tree[0]].sum()), float(cost[tree[0][lu] != tree[0][lv]].sum()), tree[1]
                ),
                *tree,
            )
        )
    _, side, kp = min(found, key=lambda f: f[0])
    return side, kp


def _sweep_orders(xy: np.ndarray, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node orders along every sweep direction (rows), and where each order may be cut.

    Node sweeps may be cut anywhere; block sweeps order whole blocks by their mean projection
    (nodes inside a block by their own) and may be cut only between blocks.
    """
    s = len(xy)
    proj = xy @ np.stack([np.cos(_ANGLES), np.sin(_ANGLES)])  # s x angles
    orders = np.argsort(proj, axis=0, kind="stable").T
    allowed = np.ones((len(_ANGLES), s - 1), dtype=bool)
    n_blocks = int(blocks.max()) + 1
    if 1 < n_blocks < s:
        block_proj = np.zeros((n_blocks, len(_ANGLES)))
        np.add.at(block_proj, blocks, proj)
        block_proj /= np.bincount(blocks)[:, None]
        block_rank = np.argsort(np.argsort(block_proj, axis=0, kind="stable"), axis=0)
        node_rank = np.argsort(orders, axis=1).T
        by_block = np.argsort(block_rank[blocks] * s + node_rank, axis=0).T
        cuts = blocks[by_block[:, :-1]] != blocks[by_block[:, 1:]]
        orders = np.vstack([orders, by_block])
        allowed = np.vstack([allowed, cuts])
    return orders, allowed


def _prefix_cuts(
    orders: np.ndarray, w: np.ndarray, lu: np.ndarray, lv: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Households and cut cost of every prefix (lengths 1..s-1) of every order (one per row).

    An edge is cut by every prefix whose length lies between the ranks of its two ends, so one
    difference array per row (filled by a single bincount over all rows) gives all cut costs.
    """
    n_rows, s = orders.shape
    rank = np.argsort(orders, axis=1)
    r_u, r_v = rank[:, lu], rank[:, lv]
    offset = (np.arange(n_rows) * (s + 1))[:, None]
    start = (np.minimum(r_u, r_v) + 1 + offset).ravel()
    stop = (np.maximum(r_u, r_v) + 1 + offset).ravel()
    weights = np.tile(cost, n_rows)
    size = n_rows * (s + 1)
    diff = np.bincount(start, weights=weights, minlength=size) - np.bincount(
        stop, weights=weights, minlength=size
    )
    cut = np.cumsum(diff.reshape(n_rows, s + 1), axis=1)[:, 1:s]
    return np.cumsum(w[orders], axis=1)[:, :-1], cut


def _make_contiguous(
    side: np.ndarray, w: np.ndarray, lu: np.ndarray, lv: np.ndarray
) -> np.ndarray | None:
    """Hand stray pieces of each side to the other side; None if a side ends up empty.

    A stray piece of one side touches only the other side, so moving it keeps that side connected;
    fixing side A and then side B therefore leaves both connected.
    """
    side = side.copy()
    for flag in (True, False):
        members = side == flag
        if not np.any(members):
            return None
        keep = members[lu] & members[lv]
        comp = components(len(side), lu[keep], lv[keep])
        ids = comp[members]
        if np.any(ids != ids[0]):
            weight = np.bincount(
                ids, weights=w[members] + 1e-6
            )  # ties go to the piece with more nodes
            side[members & (comp != int(np.argmax(weight)))] = not flag
    if side.all() or not side.any():
        return None
    return side


def _tree_split(
    w: np.ndarray, xy: np.ndarray, lu: np.ndarray, lv: np.ndarray, kps: list[int], score: Score
) -> tuple[np.ndarray, int] | None:
    """Best single-edge cut of a BFS spanning tree rooted at the south-west-most node."""
    s = len(w)
    nbrs: list[list[int]] = [[] for _ in range(s)]
    for u, v in zip(lu.tolist(), lv.tolist(), strict=True):
        nbrs[u].append(v)
        nbrs[v].append(u)
    root = int(np.argmin(xy[:, 0] + xy[:, 1]))
    parent = [-1] * s
    seen = [False] * s
    seen[root] = True
    order = [root]
    queue = deque([root])
    while queue:
        u = queue.popleft()
        for v in nbrs[u]:
            if not seen[v]:
                seen[v] = True
                parent[v] = u
                order.append(v)
                queue.append(v)
    if len(order) < s:
        return None
    sub = w.astype(float).copy()
    for v in reversed(order[1:]):
        sub[parent[v]] += sub[v]
    best = min(
        ((score(float(sub[v]), 0.0, kp), v, kp) for v in order[1:] for kp in kps), default=None
    )
    if best is None:
        return None
    _, top, kp = best
    side = np.zeros(s, dtype=bool)
    children: list[list[int]] = [[] for _ in range(s)]
    for v in order[1:]:
        children[parent[v]].append(v)
    stack = [top]
    while stack:
        u = stack.pop()
        side[u] = True
        stack.extend(children[u])
    return side, kp
