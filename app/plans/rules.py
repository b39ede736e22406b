"""The county's plan rules: households per grid (target and band) and how long an edit lock lasts.

They come from the one Settings object, given by the caller: a route builds them from
``request.app.state.settings``, a command from the settings it was started with. Nothing in the plans
package reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.settings import Settings


@dataclass(frozen=True)
class PlanRules:
    target: int
    band: tuple[int, int]
    lock_minutes: int

    @classmethod
    def of(cls, settings: Settings) -> PlanRules:
        return cls(settings.household_target, settings.household_band, settings.plan_lock_minutes)

    def override(
        self, *, target: int | None = None, band: tuple[int, int] | None = None
    ) -> PlanRules:
        """The same rules with a request's own target or band, where it names one."""
        return replace(self, target=target or self.target, band=band or self.band)
