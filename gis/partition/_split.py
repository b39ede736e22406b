"""Dividing one region of building nodes into contiguous groups inside the household band.

Method (objective in ``_problem``):

1. A building with more households than the band allows is a group of its own; land cut off by
   it with too few households to stand alone joins it.
2. Each remaining connected region gets k grids, the count closest to households/target that the
   band allows, and is divided by balanced recursive bisection (``_bisect``): fixing k first is
   what keeps the band reachable all the way down instead of discovering at the last grid that the
   leftovers do not fit. If whole buildings cannot meet the band with that k, the neighbouring
   counts are tried (three runs at most).
3. Refinement moves single boundary nodes between neighbouring groups while that lowers the
   objective, keeping the group it leaves connected (checked locally).
4. Pairs of neighbouring groups of which one straddles a barrier or misses the band are merged and
   re-bisected (a "recombination" step, as in ReCom); the new pair is kept if it is better.

Every loop is bounded (k strictly decreases in the recursion; refinement and recombination stop
after a fixed number of passes), so an infeasible band is reported, never looped on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ._bisect import bisect
from ._graph import components
from ._problem import Problem, choose_k, k_range

_REFINE_PASSES = 12
_RECOMBINE_PASSES = 1
_REPAIR_ROUNDS = 3
_LOCAL_BFS_CAP = 256

OVERSIZE = "oversize"
SMALL_REGION = "small_region"
GRANULARITY = "granularity"


@dataclass
class Division:
    """Group label per node; for groups that miss the band, the reason; oversize groups locked."""

    labels: np.ndarray
    reasons: dict[int, str]
    locked: set[int]


def divide(p: Problem) -> Division:
    """Split the region's nodes into contiguous groups; see the module docstring."""
    n = len(p.w)
    labels = np.full(n, -1, dtype=np.int64)
    reasons: dict[int, str] = {}
    locked: set[int] = set()
    oversize = np.flatnonzero(p.w > p.hi)
    for g, v in enumerate(oversize.tolist()):
        labels[v] = g
        reasons[g] = OVERSIZE
        locked.add(g)
    next_label = len(oversize)
    rest = labels < 0
    keep = rest[p.eu] & rest[p.ev]
    comp = components(n, p.eu[keep], p.ev[keep])
    for c in np.unique(comp[rest]).tolist():
        nodes = np.flatnonzero((comp == c) & rest)
        total = float(p.w[nodes].sum())
        if total < p.lo and len(oversize):
            host = _adjacent_group(p, nodes, labels)
            if host >= 0:  # cut off by an oversize building: better inside it than a tiny grid
                labels[nodes] = host
                continue
        if total < p.lo:
            reasons[next_label] = SMALL_REGION
        sub = _divide_connected(p.subset(nodes))
        labels[nodes] = sub + next_label
        next_label += int(sub.max()) + 1
    weight = np.bincount(labels, weights=p.w, minlength=next_label)
    for g in range(next_label):
        if g not in locked and p.lo <= weight[g] <= p.hi:
            reasons.pop(g, None)
        elif g not in reasons:
            reasons[g] = GRANULARITY
    return Division(labels, reasons, locked)


def _divide_connected(p: Problem) -> np.ndarray:
    total = float(p.w.sum())
    k0 = choose_k(total, p.target, p.lo, p.hi)
    k_min, k_max = k_range(total, p.lo, p.hi)
    tries = [k0, *[k for k in (k0 - 1, k0 + 1, k0 - 2, k0 + 2) if k_min <= k <= k_max][:2]]
    best, best_viol = None, np.inf
    for k in tries:
        labels = _recursive_bisection(p, k)
        _refine(p, labels)
        _recombine(p, labels)
        _repair_band(p, labels)
        viol = p.violation(labels)
        if viol < best_viol:
            best, best_viol = labels, viol
        if viol == 0:
            break
    assert best is not None
    return np.unique(best, return_inverse=True)[1].ravel()  # labels 0..g-1 even if a group emptied


def _recursive_bisection(p: Problem, k: int) -> np.ndarray:
    labels = np.zeros(len(p.w), dtype=np.int64)
    stack = [(np.arange(len(p.w)), k)]
    next_label = 0
    while stack:
        nodes, kk = stack.pop()
        split = bisect(p, nodes, kk)
        if split is None:
            labels[nodes] = next_label
            next_label += 1
        else:
            side, kp = split
            stack += [(nodes[side], kp), (nodes[~side], kk - kp)]
    return labels


def _adjacent_group(p: Problem, nodes: np.ndarray, labels: np.ndarray) -> int:
    best, best_len = -1, -np.inf
    for v in nodes.tolist():
        for u, c in p.nbrs[v]:
            if labels[u] >= 0 and c > best_len:
                best, best_len = int(labels[u]), c
    return best


def _scale(p: Problem, labels: np.ndarray) -> float:
    """Side of a typical grid (m): the unit in which boundary length enters the objective."""
    return max(float(np.sqrt(p.area.sum() / (int(labels.max()) + 1))), 1.0)


def _refine(p: Problem, labels: np.ndarray) -> None:
    """Move boundary nodes between neighbouring groups while the objective improves (in place)."""
    n_groups = int(labels.max()) + 1
    if n_groups < 2:
        return
    weight = np.bincount(labels, weights=p.w, minlength=n_groups)
    size = np.bincount(labels, minlength=n_groups)
    scale = _scale(p, labels)
    f = p.group_cost
    lab = labels.tolist()
    for _ in range(_REFINE_PASSES):
        moved = 0
        for v in range(len(lab)):
            a = lab[v]
            if size[a] <= 1:
                continue
            links: dict[int, float] = {}
            for u, c in p.nbrs[v]:
                links[lab[u]] = links.get(lab[u], 0.0) + c
            if len(links) == 1 and a in links:
                continue
            wv = float(p.w[v])
            c_a = links.get(a, 0.0)
            base = f(weight[a] - wv) - f(weight[a])
            best_gain, best_b = -1e-9, -1
            for b, c_b in links.items():
                if b != a:
                    gain = (c_a - c_b) / scale + base + f(weight[b] + wv) - f(weight[b])
                    if gain < best_gain:
                        best_gain, best_b = gain, b
            if best_b < 0 or not _removable(p, lab, v):
                continue
            lab[v] = best_b
            weight[a] -= wv
            weight[best_b] += wv
            size[a] -= 1
            size[best_b] += 1
            moved += 1
        if not moved:
            break
    labels[:] = lab


def _removable(p: Problem, lab: list[int], v: int) -> bool:
    """True if v's group stays connected without v (searching at most a few hundred nodes)."""
    a = lab[v]
    targets = {u for u, _ in p.nbrs[v] if lab[u] == a}
    if len(targets) <= 1:
        return bool(targets)
    start = next(iter(targets))
    seen = {start, v}
    queue = deque([start])
    found = 1
    while queue and len(seen) < _LOCAL_BFS_CAP:
        u = queue.popleft()
        for x, _ in p.nbrs[u]:
            if x not in seen and lab[x] == a:
                seen.add(x)
                if x in targets:
                    found += 1
                    if found == len(targets):
                        return True
                queue.append(x)
    return False


def _recombine(p: Problem, labels: np.ndarray) -> None:
    """Re-bisect pairs of neighbouring groups where one straddles a barrier or misses the band."""
    if len(labels) == 0 or labels.max() < 1:
        return
    scale = _scale(p, labels)
    f = p.group_cost
    for _ in range(_RECOMBINE_PASSES):
        gu, gv = labels[p.eu], labels[p.ev]
        weight = np.bincount(labels, weights=p.w)
        bad = np.zeros(len(weight), dtype=bool)
        bad[gu[p.barrier & (gu == gv)]] = True
        bad |= (weight < p.lo) | (weight > p.hi)
        cross = (gu != gv) & (bad[gu] | bad[gv])
        pairs = np.unique(np.column_stack([np.minimum(gu, gv), np.maximum(gu, gv)])[cross], axis=0)
        changed = False
        for a, b in pairs.tolist():
            nodes = np.flatnonzero((labels == a) | (labels == b))
            inside = np.isin(p.eu, nodes) & np.isin(p.ev, nodes)
            la, lb = labels[p.eu[inside]], labels[p.ev[inside]]
            if not np.any(la != lb):
                continue  # no longer neighbours after an earlier swap
            split = bisect(p, nodes, 2)
            if split is None:
                continue
            side = split[0]
            new = np.where(side, a, b)
            trial = labels.copy()
            trial[nodes] = new
            ta, tb = trial[p.eu[inside]], trial[p.ev[inside]]
            old_cost = p.cost[inside][la != lb].sum() / scale + f(weight[a]) + f(weight[b])
            w_a, w_b = float(p.w[nodes][side].sum()), float(p.w[nodes][~side].sum())
            new_cost = p.cost[inside][ta != tb].sum() / scale + f(w_a) + f(w_b)
            if new_cost < old_cost - 1e-9:
                labels[nodes] = new
                weight[a], weight[b] = w_a, w_b
                changed = True
        if not changed:
            break


def _repair_band(p: Problem, labels: np.ndarray) -> None:
    """Redivide each out-of-band group together with all its neighbours, keeping the count of groups.

    Single moves and pair swaps get stuck when every neighbour sits near the band edge; letting the
    whole neighbourhood shift households around the bad group usually finds room. A redivision is
    kept only if it lowers the band violation of the neighbourhood (so this ends).
    """
    for _ in range(_REPAIR_ROUNDS):
        weight = np.bincount(labels, weights=p.w)
        bad = np.flatnonzero((weight < p.lo) | (weight > p.hi))
        if not len(bad):
            return
        improved = False
        for g in bad.tolist():
            gu, gv = labels[p.eu], labels[p.ev]
            near = (
                set(gv[(gu == g) & (gv != g)].tolist())
                | set(gu[(gv == g) & (gu != g)].tolist())
                | {g}
            )
            groups = sorted(near)
            nodes = np.flatnonzero(np.isin(labels, groups))
            sub = p.subset(nodes)
            old = np.unique(labels[nodes], return_inverse=True)[1].ravel()
            new = _recursive_bisection(sub, len(groups))
            _refine(sub, new)
            if (
                len(np.unique(new)) == len(groups)
                and sub.violation(new) < sub.violation(old) - 1e-9
            ):
                labels[nodes] = np.asarray(groups)[new]
                improved = True
        if not improved:
            return
