"""Who may see and do what: the one place for role and jurisdiction rules.

Jurisdiction is an area code. Codes nest by prefix (county 6 digits → township 9 → community 12 →
grid 15), so "X is inside jurisdiction J" is ``X.startswith(J)``: cheap, index-friendly, no geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLE_LABELS = {
    "county_admin": "县级管理员",
    "planner": "网格规划员",
    "dispatcher": "指挥调度员",
    "grid_worker": "网格员",
    "auditor": "督查审计员",
    "public": "公众",
}

# Roles that see staff phone numbers in full, inside their jurisdiction. Planners draw boundaries and
# the public sees a masked number: both get the name and the masked phone.
_SEES_STAFF_PHONES = frozenset({"county_admin", "dispatcher", "grid_worker", "auditor"})


@dataclass(frozen=True)
class Principal:
    """The caller: a logged-in user, or the anonymous public."""

    username: str
    role: str
    jurisdiction_code: str
    user_id: int | None = None
    staff_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    def covers(self, code: str | None) -> bool:
        """True if an area or grid code lies within this principal's jurisdiction."""
        if self.role == "public":
            return False
        return code is not None and code.startswith(self.jurisdiction_code)

    def sees_phone_of(self, grid_code: str) -> bool:
        return self.role in _SEES_STAFF_PHONES and self.covers(grid_code)


# Household records (DOMAIN.md §5). Grid workers, dispatchers and county admins work with residents
# and see names and phones inside their jurisdiction; auditors check coverage and see who is in a
# special group, but masked names and phones; planners and the public read no household records.
HOUSEHOLD_READERS = ("county_admin", "dispatcher", "grid_worker", "auditor")
_SEES_RESIDENT_DETAILS = frozenset({"county_admin", "dispatcher", "grid_worker"})
_SEES_SPECIAL_GROUPS = frozenset({"county_admin", "grid_worker", "auditor"})


def sees_resident_details(principal: Principal, grid_code: str | None) -> bool:
    return principal.role in _SEES_RESIDENT_DETAILS and principal.covers(grid_code)


def sees_special_groups(principal: Principal, grid_code: str | None) -> bool:
    return principal.role in _SEES_SPECIAL_GROUPS and principal.covers(grid_code)


ANONYMOUS = Principal(username="anonymous", role="public", jurisdiction_code="")


def mask_name(name: str | None) -> str | None:
    """张*华 style: the surname and, for names of three or more characters, the last character."""
    if not name:
        return name
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    """138****5678 style: keeps the first three and last four digits."""
    if not phone:
        return phone
    digits = phone.replace("-", "").replace(" ", "")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
