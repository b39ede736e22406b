"""The optimisation problem shared by bisection and refinement: graph, weights and the objective.

Objective, to be minimised over contiguous groups (lower is better):

    sum over cut edges of cost / L  +  sum over groups of  2 ((W - T) / T)^2  +  band penalty

where cost is the shared boundary length in metres, negative along barriers (so cuts follow roads
and rivers and a grid straddling one pays for it), L is the side of a typical grid, W a group's
households and T the target. The band penalty (50 per target's worth of households outside the
band, plus 10 for being outside at all) dominates everything else, so the band is only given up
where whole buildings and contiguity leave no choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

BARRIER_REWARD = 0.5  # a metre of grid boundary on a barrier counts as -0.5 m of ordinary boundary
BALANCE = 2.0
BAND_PENALTY = 50.0
BAND_STEP = 10.0


@dataclass
class Problem:
    """One region: node households, centroids (m), areas (m²) and edges u < v with cut costs."""

    w: np.ndarray
    xy: np.ndarray
    area: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    cost: np.ndarray
    barrier: np.ndarray
    target: float
    lo: float
    hi: float

    @cached_property
    def nbrs(self) -> list[list[tuple[int, float]]]:
        """Adjacency lists (neighbour, cost), built on first use: only refinement walks them."""
        out: list[list[tuple[int, float]]] = [[] for _ in range(len(self.w))]
        for u, v, c in zip(self.eu.tolist(), self.ev.tolist(), self.cost.tolist(), strict=True):
            out[u].append((v, c))
            out[v].append((u, c))
        return out

    def subset(self, nodes: np.ndarray) -> Problem:
        local = np.full(len(self.w), -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        keep = (local[self.eu] >= 0) & (local[self.ev] >= 0)
        return Problem(
            w=self.w[nodes],
            xy=self.xy[nodes],
            area=self.area[nodes],
            eu=local[self.eu[keep]],
            ev=local[self.ev[keep]],
            cost=self.cost[keep],
            barrier=self.barrier[keep],
            target=self.target,
            lo=self.lo,
            hi=self.hi,
        )

    def group_cost(self, weight: float) -> float:
        """Balance and band terms of one group holding ``weight`` households."""
        viol = max(0.0, self.lo - weight) + max(0.0, weight - self.hi)
        return (
            BALANCE * ((weight - self.target) / self.target) ** 2
            + BAND_PENALTY * viol / self.target
            + BAND_STEP * (viol > 0)
        )

    def violation(self, labels: np.ndarray) -> float:
        weight = np.bincount(labels, weights=self.w)
        return float(np.sum(np.maximum(0.0, self.lo - weight) + np.maximum(0.0, weight - self.hi)))


def edge_cost(length: np.ndarray, on_barrier: np.ndarray) -> np.ndarray:
    """Cost of a grid boundary along an edge: ordinary metres count, barrier metres earn."""
    return (length - on_barrier) - BARRIER_REWARD * on_barrier


def k_range(total: float, lo: float, hi: float) -> tuple[int, int]:
    """Smallest and largest number of grids whose band can hold ``total`` households."""
    k_min = max(1, int(np.ceil(total / hi - 1e-9)))
    k_max = max(1, int(np.floor(total / lo + 1e-9)))
    return k_min, max(k_min, k_max)


def choose_k(total: float, target: float, lo: float, hi: float) -> int:
    """Number of grids closest to total/target for which the band can hold all households."""
    k_min, k_max = k_range(total, lo, hi)
    return int(min(max(round(total / target), k_min), k_max))
