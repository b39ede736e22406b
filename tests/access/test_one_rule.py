"""One rule, one place: no module outside ``app/auth`` decides access by itself.

Who may do what is the policy table (``app/auth/policy.py``) and which records a request reaches is
its ``AreaScope`` (``app/auth/scope.py``; docs/security.md#access). A router or service that
compares area-code prefixes or role strings on its own is a second copy of the rule: it drifts from
the table, and it escapes the test switch (``Settings.access_app_filters``) that proves row-level
security holds alone. This test reads the source and lists every such line.

A hit that is not access control goes in ``ALLOWED`` with the reason; keep the list short.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from app.auth.policy import Role

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

# Where the rule lives, and the database's own copy of it (the row-level security policies).
EXEMPT_DIRS = ("app/auth/", "app/migrations/")

_ROLE = "|".join(re.escape(r.value) for r in Role)
_QUOTED_ROLE = rf"""["'](?:{_ROLE})["']"""
# Columns that hold area or grid codes (never category codes, case numbers or the like).
_CODE_COLUMN = r"\b(?:\w+\.)?(?:code|grid_code|community_code|township_code|county_code|area_code)"


def _role_set(line: str) -> bool:
    """Two or more different role names in one line: a hand-written role set."""
    return len(set(re.findall(rf"""["']({_ROLE})["']""", line))) >= 2


CHECKS: dict[str, re.Pattern[str] | Callable[[str], bool]] = {
    # principal.covers(...): use scope.covers / scope.require (a name ending in "scope" is fine).
    "covers() outside AreaScope": re.compile(r"(?<!scope)\.covers\("),
    "jurisdiction_code outside app/auth": re.compile(r"\bjurisdiction_code\b"),
    "LIKE prefix filter on a code column": re.compile(
        rf"{_CODE_COLUMN}\s+(?:NOT\s+)?I?LIKE\b", re.IGNORECASE
    ),
    "|| '%' prefix pattern": re.compile(r"\|\|\s*'%'"),
    "startswith() on a code or prefix": re.compile(
        rf"{_CODE_COLUMN[:-1]}|jurisdiction_code|prefix)\)?\.startswith\("
        r"|\.startswith\([^)]*(?:jurisdiction|prefix)"
    ),
    "require_roles": re.compile(r"\brequire_roles\b"),
    "role compared with a role string": re.compile(
        rf"\brole\s*(?:==|!=)\s*{_QUOTED_ROLE}|{_QUOTED_ROLE}\s*(?:==|!=)\s*\w*\.?role\b"
    ),
    "role tested against a hand-written set": re.compile(
        rf"\brole\s+(?:not\s+)?in\s*[(\[{{][^)\]}}]*{_QUOTED_ROLE}"
    ),
    # Use POLICY (allowed_roles) or the Role enum instead.
    "hand-written role set": _role_set,
}

# (path, text on the line, check) -> why it is not access control. Exact and few.
ALLOWED: dict[tuple[str, str, str], str] = {
    (
        "app/cli.py",
        "jurisdiction_code=args.jurisdiction",
        "jurisdiction_code outside app/auth",
    ): "`gridgov user add` sets a new account's jurisdiction",
    (
        "app/demo.py",
        "jurisdiction_code=jurisdiction",
        "jurisdiction_code outside app/auth",
    ): "the demo loader creates the demo accounts with their jurisdictions",
    # Staff roles in a grid (楼栋长, 单元管家) share their names with the login roles of the same
    # people; these lines define the staff roles, they decide no access.
    (
        "app/staff/models.py",
        'STAFF_ROLES = ("leader", "worker", "building_leader", "unit_steward", "cadre")',
        "hand-written role set",
    ): "the staff roles of an assignment (docs/domain.md#staff-roles)",
    (
        "app/staff/models.py",
        "\"role IN ('leader', 'worker', 'building_leader', 'unit_steward', 'cadre')\", name=\"role\"",
        "hand-written role set",
    ): "the staff roles' check constraint",
    (
        "app/desk/service.py",
        "jurisdiction_code=grid",
        "jurisdiction_code outside app/auth",
    ): "a building leader's login is made with their assignment's grid as its jurisdiction",
}


def _code(line: str) -> str:
    """The line without a trailing comment (a '#' inside a string is kept, roughly)."""
    quote = None
    for i, ch in enumerate(line):
        if ch in "\"'" and quote in (None, ch):
            quote = None if quote == ch else ch
        elif ch == "#" and quote is None:
            return line[:i]
    return line


def offending_lines(root: Path = ROOT) -> list[str]:
    hits = []
    for path in sorted((root / "app").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(EXEMPT_DIRS):
            continue
        for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = _code(raw)
            for name, check in CHECKS.items():
                if not (check(line) if callable(check) else check.search(line)):
                    continue
                if name == "jurisdiction_code outside app/auth" and rel.endswith("/schemas.py"):
                    continue  # API fields named after the account's jurisdiction
                if any((p, check) == (rel, name) and text in line for p, text, check in ALLOWED):
                    continue
                hits.append(f"{rel}:{n}: {name}: {raw.strip()}")
    return hits


def test_no_access_rule_outside_app_auth():
    hits = offending_lines()
    assert not hits, (
        "Access decided outside app/auth (use access()/access_whole(), AreaScope.clause/sql/"
        "require/narrow, Role members and POLICY; docs/security.md#access):\n" + "\n".join(hits)
    )


def test_every_allowance_is_still_needed():
    """An allowance whose line is gone is removed, so the list stays exact."""
    for (rel, text, _check), _why in ALLOWED.items():
        assert text in (ROOT / rel).read_text(encoding="utf-8"), f"stale allowance: {rel}: {text}"


def test_the_checks_catch_what_they_are_for(tmp_path):
    """Each check, on a line written the old way, and a line written the new way it must pass."""
    bad = {
        "covers() outside AreaScope": "if not principal.covers(plan.community_code):",
        "jurisdiction_code outside app/auth": "prefix = area or principal.jurisdiction_code",
        "LIKE prefix filter on a code column": "WHERE g.status = 'active' AND g.code LIKE :p",
        "|| '%' prefix pattern": "WHERE grid_code LIKE :c || '%'",
        "startswith() on a code or prefix": "stmt.where(Plan.community_code.startswith(who))",
        "require_roles": 'Reader = Depends(require_roles("auditor"))',
        "role compared with a role string": 'if principal.role == "grid_worker":',
        "role tested against a hand-written set": 'if who.role in ("auditor", "planner"):',
        "hand-written role set": '_STAFF = frozenset({"county_admin", "dispatcher"})',
    }
    bad_too = ["if who.covers(code):", "if x.startswith(principal.jurisdiction_code[:6]):"]
    good = [
        "scope.require(incident.grid_code, missing=MISSING)",
        "if self.scope.covers(code):",
        "conds = [scope.clause(Incident.grid_code)]",
        "conds.append(Incident.category_code.startswith(category, autoescape=True))",
        "AND category_code LIKE :category",
        "if principal.role == Role.GRID_WORKER:",
        "StaffAssignment.role == 'leader',",
        "if next_url.startswith('/'):",
        '("planner", "planner", COUNTY_CODE, "网格规划员", None),',  # a user named after a role
    ]
    app = tmp_path / "app" / "x"
    app.mkdir(parents=True)
    (app / "bad.py").write_text("\n".join([*bad.values(), *bad_too]) + "\n", encoding="utf-8")
    (app / "good.py").write_text("\n".join(good) + "\n", encoding="utf-8")
    hits = offending_lines(tmp_path)
    found = {h.split(": ")[1] for h in hits if h.startswith("app/x/bad.py")}
    assert found == set(bad), set(bad) - found
    flagged = {int(h.split(":")[1]) for h in hits if h.startswith("app/x/bad.py")}
    assert flagged == set(range(1, len(bad) + len(bad_too) + 1))
    assert [h for h in hits if h.startswith("app/x/good.py")] == []
