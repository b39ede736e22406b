"""Rows of KPIs from the counts: the rates, the composite score, the red/amber/green lights from the
settings (``IncidentSettings.kpi``) and the ranking of a league table (docs/domain.md#kpis)."""

from __future__ import annotations

from typing import Any

from app.incidents.config import KpiSettings
from app.incidents.kpis.metrics import COUNTS, RATES

LIGHTS = ("green", "amber", "red")
_LOWER = {r.key: r.lower_is_better for r in RATES}


def light(value: float | None, bounds: tuple[float, float] | None, lower: bool) -> str | None:
    """green / amber / red for ``value`` against (green, amber) bounds; None without either."""
    if value is None or bounds is None:
        return None
    green, amber = bounds
    if lower:
        return "green" if value <= green else "amber" if value <= amber else "red"
    return "green" if value >= green else "amber" if value >= amber else "red"


def composite(rates: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """100 × Σ wᵢ·vᵢ / Σ wᵢ over the weighted rates that have a value (vᵢ = 1 − rate for a
    lower-is-better rate); None when none has."""
    num = den = 0.0
    for key, weight in weights.items():
        value = rates.get(key)
        if value is None or weight == 0:
            continue
        num += weight * (1 - value if _LOWER[key] else value)
        den += weight
    return round(100 * num / den, 1) if den else None


def shape(counts: dict[str, Any], kpi: KpiSettings) -> dict[str, Any]:
    """One row: counts, rates, hours to close, the score and the lights of each."""
    row: dict[str, Any] = {name: counts[name] for name in COUNTS}
    lights: dict[str, str] = {}
    bounds = kpi.rate_lights
    for rate in RATES:
        value = row[rate.key] = rate.of(counts)
        if value is not None and rate.key in bounds:
            lights[rate.key] = light(value, bounds[rate.key], _LOWER[rate.key]) or ""
    mean, p90 = counts.get("mean_h"), counts.get("p90_h")
    row["mean_hours_to_close"] = round(float(mean), 2) if mean is not None else None
    row["p90_hours_to_close"] = round(float(p90), 2) if p90 is not None else None
    row["score"] = composite(row, kpi.weights)
    if row["score"] is not None:
        lights["score"] = light(row["score"], kpi.score_lights, False) or ""
    row["lights"] = lights
    return row


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first: the score (none last), then more cases due, then the code; ``rank`` from 1."""
    rows = sorted(
        rows,
        key=lambda r: (r["score"] is None, -(r["score"] or 0), -r["due"], r["group"] or ""),
    )
    for n, row in enumerate(rows, 1):
        row["rank"] = n
    return rows
