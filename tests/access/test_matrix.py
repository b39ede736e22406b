"""Every read route × every role × inside and outside the caller's jurisdiction (docs/security.md).

The routes come from the app itself (the OpenAPI document, plus the pages and framework routes it
leaves out), and each must have a hand-written rule in ``RULES``: how to call it (which record of
township A or B, which area) and what must never appear in the answer to a caller of township A
(B's markers, tests/access/conftest.py ``MARKERS``). A new read route without a rule fails
``test_every_read_route_has_a_rule``: add a rule for it.

Each cell asks every probe of its route as one role, and checks: the status is 200, 3xx (a page's
login redirect), 401, 403 or 404, never a 500; no marker of township B appears in the body (a B
code the request itself named is not counted: naming it back tells the caller nothing); and where
the role may read the thing, the INSIDE markers of township A appear (so an empty answer cannot
pass). The whole matrix runs twice: as deployed ("filters") and with the application's jurisdiction
filters switched off ("rls_only", ``Settings.access_app_filters=False``), where PostgreSQL's
row-level security must hold alone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.access.conftest import GRID_B, MARKERS, ROLES, TODAY, TOWNSHIP_B, World
from tests.factories import G11

A, B = MARKERS["A"], MARKERS["B"]

# What township B's markers are, by kind (keys of MARKERS["B"]).
PERSONAL = (
    "head",
    "head_phone",
    "head_masked",
    "special_head",
    "special_phone",
    "special_masked",
    "reporter_phone",
    "leader_phone",
)
CASE = ("case_no", "case_text", "case_note")
CODES = ("grid", "township")
ALL = (*PERSONAL, *CASE, *CODES, "plan", "building", "building_code", "reader")
# The county's outline map (areas, grids, buildings with their codes) is public by the policy
# (Resource.PUBLIC_MAP): there, only people and cases are outside data.
NOT_PUBLIC_MAP = (*PERSONAL, *CASE, "plan", "reader")
# Open311 lists cases county-wide by design (docs/public.md): never a person.
NOT_PUBLIC_CASE = PERSONAL

STAFF = frozenset({"county_admin", "planner", "dispatcher", "grid_worker", "auditor"})
HOUSEHOLD_READERS = frozenset({"county_admin", "dispatcher", "grid_worker", "auditor"})
# A unit handler reads the cases of their unit (the matrix's A case is with their unit).
CASE_READERS = HOUSEHOLD_READERS | {"unit_handler"}
UNIT_READERS = CASE_READERS
KPI_READERS = frozenset({"county_admin", "dispatcher", "auditor"})
LOG_READERS = frozenset({"county_admin", "auditor"})
PLAN_READERS = frozenset({"county_admin", "planner", "dispatcher", "auditor"})
AUDIT_READERS = PLAN_READERS
PARTY_READERS = STAFF
DUAL_READERS = KPI_READERS | {"unit_handler"}  # a unit's member: their own registration
TASK_READERS = KPI_READERS | {"grid_worker", "unit_handler"}  # their own; their unit's
PERIOD = {
    "start": (TODAY - dt.timedelta(days=7)).isoformat(),
    "end": (TODAY + dt.timedelta(days=7)).isoformat(),  # KPIs count cases due in the period
}


@dataclass(frozen=True)
class Probe:
    """One request of a route, and what its answer must (not) hold for a caller of township A."""

    path: str
    params: dict[str, Any] = field(default_factory=dict)
    outside: tuple[str, ...] = ALL  # keys of MARKERS["B"] that must not appear
    # role -> keys of MARKERS["A"] that must appear (with a 200) for that role
    inside: dict[str, tuple[str, ...]] = field(default_factory=dict)
    page: bool = False  # a page: the token goes in the session cookie
    # Markers of the registry (areas, grids, buildings: the county's map, which has no row-level
    # security by design) that only the application's filter keeps out: not looked for when that
    # filter is switched off.
    registry: tuple[str, ...] = ()
    also: frozenset[int] = frozenset()  # statuses this probe may also get (a 422 it provokes)


def sees(roles: frozenset[str], *keys: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(roles, keys)


def _tile(zoom: int, lng: float, lat: float) -> tuple[int, int]:
    n = 2**zoom
    x = int((lng + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


TX, TY = _tile(12, 113.02, 34.005)  # one tile holding both townships' buildings and grids


Rule = Callable[[World], list[Probe]]


def _detail(
    path: str, ids: Callable[[World], dict[str, Any]], inside: dict[str, tuple[str, ...]]
) -> Rule:
    """A record of A (inside) and of B (outside) by id."""

    def rule(w: World) -> list[Probe]:
        own = ids(w)
        return [Probe(path.format(id=own["A"]), inside=inside), Probe(path.format(id=own["B"]))]

    return rule


REGISTRY = (*CODES, "building", "building_code")


def _listing(
    path: str, inside: dict[str, tuple[str, ...]], *, registry: bool = False, **params: Any
) -> Rule:
    """The caller's own area (inside), and township B named as the area (outside). ``registry``:
    the route lists the registry itself, so its codes are outside data only while the application
    filter is on."""
    reg = REGISTRY if registry else ()

    def rule(w: World) -> list[Probe]:
        return [
            Probe(path, params, inside=inside, registry=reg),
            Probe(path, {**params, "area": TOWNSHIP_B}, registry=reg),
        ]

    return rule


def _page(path: str, *, area: bool = True) -> Rule:
    def rule(w: World) -> list[Probe]:
        probes = [Probe(path, page=True)]
        if area:
            probes.append(Probe(path, {"area": TOWNSHIP_B}, page=True))
        return probes

    return rule


def _static(*paths: str) -> Rule:
    """A route that shows no record at all: nothing of B may appear either."""
    return lambda w: [Probe(p) for p in paths]


# The register: read by those who work with residents (names in full) and auditors (masked).
REGISTER_READERS = HOUSEHOLD_READERS
REGISTER_SPECIAL = {
    **sees(REGISTER_READERS - {"auditor"}, "special_head"),
    "auditor": ("special_masked",),
}
REGISTER_PLAIN = {**sees(REGISTER_READERS - {"auditor"}, "head"), "auditor": ("head_masked",)}

GET = "GET"
RULES: dict[tuple[str, str], Rule] = {
    # ---- households, access log, audit trail
    (GET, "/api/v1/access-log"): lambda w: [
        Probe("/api/v1/access-log", inside=sees(LOG_READERS, "reader")),
        Probe("/api/v1/access-log", {"household": w.special["B"]}),
    ],
    # Who did what, county-wide for admins and auditors; B's codes may appear in the matrix's own
    # requests that it records, so only data counts as outside here.
    (GET, "/api/v1/audit-trail"): lambda w: [
        Probe("/api/v1/audit-trail", outside=(*PERSONAL, "case_text", "plan"))
    ],
    (GET, "/api/v1/households"): lambda w: [
        Probe(
            "/api/v1/households",
            {"grid": G11},
            inside={
                **sees(HOUSEHOLD_READERS - {"auditor"}, "head"),
                "auditor": ("head_masked",),  # auditors see names masked (UNMASKED)
            },
        ),
        Probe("/api/v1/households", {"grid": GRID_B}),
    ],
    (GET, "/api/v1/households/{household_id}"): _detail(
        "/api/v1/households/{id}",
        lambda w: w.special,
        {**sees(HOUSEHOLD_READERS - {"auditor"}, "special_head"), "auditor": ("special_masked",)},
    ),
    # ---- the register (tests/register/matrix_world.py): persons carry the special-group head's
    # name, houses and organisations the plain head's (as landlord and contact)
    (GET, "/api/v1/register/codes"): _static("/api/v1/register/codes"),
    (GET, "/api/v1/register/persons"): _listing("/api/v1/register/persons", REGISTER_SPECIAL),
    (GET, "/api/v1/register/persons/{person_id}"): _detail(
        "/api/v1/register/persons/{id}", lambda w: w.register["person"], REGISTER_SPECIAL
    ),
    (GET, "/api/v1/register/persons/{record_id}/history"): _detail(
        "/api/v1/register/persons/{id}/history", lambda w: w.register["person"], REGISTER_SPECIAL
    ),
    (GET, "/api/v1/register/houses"): _listing("/api/v1/register/houses", REGISTER_PLAIN),
    (GET, "/api/v1/register/houses/{house_id}"): _detail(
        "/api/v1/register/houses/{id}", lambda w: w.register["house"], REGISTER_PLAIN
    ),
    (GET, "/api/v1/register/houses/{record_id}/history"): _detail(
        "/api/v1/register/houses/{id}/history", lambda w: w.register["house"], REGISTER_PLAIN
    ),
    (GET, "/api/v1/register/organisations"): _listing(
        "/api/v1/register/organisations", REGISTER_PLAIN
    ),
    (GET, "/api/v1/register/organisations/{org_id}"): _detail(
        "/api/v1/register/organisations/{id}", lambda w: w.register["organisation"], REGISTER_PLAIN
    ),
    (GET, "/api/v1/register/organisations/{record_id}/history"): _detail(
        "/api/v1/register/organisations/{id}/history",
        lambda w: w.register["organisation"],
        REGISTER_PLAIN,
    ),
    (GET, "/api/v1/register/proposals"): _listing("/api/v1/register/proposals", REGISTER_SPECIAL),
    # The exchange file: the county office's only (full ID numbers).
    (GET, "/api/v1/register/export"): _listing(
        "/api/v1/register/export", sees(frozenset({"county_admin"}), "special_head"), kind="person"
    ),
    (GET, "/api/v1/register/proposals/{proposal_id}"): _detail(
        "/api/v1/register/proposals/{id}", lambda w: w.register["proposal"], REGISTER_SPECIAL
    ),
    # ---- audits
    (GET, "/api/v1/audits"): _listing("/api/v1/audits", sees(AUDIT_READERS, "township")),
    # Every format of a stored run: the HTML report draws its area's map, which must stop at A.
    (GET, "/api/v1/audits/{run_id}"): lambda w: [
        Probe(f"/api/v1/audits/{w.audit[t]}", {"f": f}, inside=sees(AUDIT_READERS, "township"))
        if t == "A"
        else Probe(f"/api/v1/audits/{w.audit[t]}", {"f": f})
        for t in ("A", "B")
        for f in ("json", "geojson", "csv", "html")
    ],
    # ---- the caller, lookups
    (GET, "/api/v1/auth/me"): _static("/api/v1/auth/me"),
    (GET, "/api/v1/geocode"): lambda w: [
        Probe("/api/v1/geocode", {"address": w.address["A"]}, outside=NOT_PUBLIC_MAP),
        Probe("/api/v1/geocode", {"address": w.address["B"]}, outside=NOT_PUBLIC_MAP),
    ],
    (GET, "/api/v1/locate"): lambda w: [
        Probe("/api/v1/locate", {"lng": x, "lat": y, "crs": "cgcs2000"}, outside=NOT_PUBLIC_MAP)
        for x, y in w.point.values()
    ],
    # Area names and codes of a point: the county's outline map, public by the policy.
    (GET, "/api/v1/areas/at"): lambda w: [
        Probe("/api/v1/areas/at", {"lng": x, "lat": y, "crs": "cgcs2000"}, outside=NOT_PUBLIC_MAP)
        for x, y in w.point.values()
    ],
    (GET, "/api/v1/grids/at"): lambda w: [
        Probe(
            "/api/v1/grids/at",
            {"lng": x, "lat": y, "date": TODAY.isoformat()},
            outside=NOT_PUBLIC_MAP,
        )
        for x, y in w.point.values()
    ],
    # ---- incidents
    (GET, "/api/v1/incident-categories"): _static("/api/v1/incident-categories"),
    (GET, "/api/v1/incidents"): _listing("/api/v1/incidents", sees(CASE_READERS, "case_no")),
    # The caller's own tasks (我的待办): cases of their units in their jurisdiction; A's grid
    # worker has none here (the matrix dispatches nothing), so only B's absence is checked.
    (GET, "/api/v1/incidents/mine"): _static("/api/v1/incidents/mine"),
    # Open cases near a point, of a category: asked at B's case, nothing of B may come back.
    # (The matrix's category is a class without small classes: a 422 naming it is allowed.)
    (GET, "/api/v1/incidents/nearby"): lambda w: [
        Probe(
            "/api/v1/incidents/nearby",
            {
                "category_code": "MX01",
                "lng": w.point[t][0],
                "lat": w.point[t][1],
                "crs": "cgcs2000",
            },
            also=frozenset({422}),
        )
        for t in ("A", "B")
    ],
    (GET, "/api/v1/incidents/{incident_id}"): _detail(
        "/api/v1/incidents/{id}", lambda w: w.case, sees(CASE_READERS, "case_no", "case_text")
    ),
    (GET, "/api/v1/incidents/{incident_id}/history"): _detail(
        "/api/v1/incidents/{id}/history", lambda w: w.case, sees(CASE_READERS, "case_note")
    ),
    # The live stream, replayed from the first event and ended at once (timeout 0): the history of
    # A's cases, never B's (under the test clients no listener runs: the replay is the answer).
    (GET, "/api/v1/incident-events"): lambda w: [
        Probe(
            "/api/v1/incident-events",
            {"after": 0, "timeout": 0},
            inside=sees(CASE_READERS, "case_no"),
        ),
        Probe("/api/v1/incident-events", {"after": 0, "timeout": 0, "area": TOWNSHIP_B}),
    ],
    # The fixture's cases have no photo: only the outside case counts.
    (GET, "/api/v1/incidents/{incident_id}/photos/{n}"): _detail(
        "/api/v1/incidents/{id}/photos/0", lambda w: w.case, {}
    ),
    (GET, "/api/v1/incidents/{incident_id}/dispatch-options"): _detail(
        "/api/v1/incidents/{id}/dispatch-options", lambda w: w.case, sees(CASE_READERS, "township")
    ),
    # ---- responsible units and the routing table: A's, and those holding A (county), never B's
    (GET, "/api/v1/units"): _listing("/api/v1/units", sees(UNIT_READERS, "township")),
    (GET, "/api/v1/units/{code}"): _detail(
        "/api/v1/units/{id}", lambda w: w.unit, sees(UNIT_READERS, "township")
    ),
    (GET, "/api/v1/units/{code}/members"): _detail(
        "/api/v1/units/{id}/members", lambda w: w.unit, sees(UNIT_READERS, "township")
    ),
    (GET, "/api/v1/routing-rules"): _listing(
        "/api/v1/routing-rules", sees(UNIT_READERS, "township")
    ),
    (GET, "/api/v1/kpis"): lambda w: [
        *_listing("/api/v1/kpis", sees(KPI_READERS, "grid"), group_by="grid", **PERIOD)(w),
        Probe(
            "/api/v1/kpis",
            {"group_by": "grid", "format": "csv", **PERIOD},
            inside=sees(KPI_READERS, "grid"),
        ),
    ],
    (GET, "/api/v1/kpis/league"): _listing(
        "/api/v1/kpis/league", sees(KPI_READERS, "grid"), by="grid", **PERIOD
    ),
    # A case's follow-up link: its token is the credential, for anyone; never a person.
    (GET, "/api/v1/follow/{token}"): lambda w: [
        Probe(f"/api/v1/follow/{w.case_token['B']}", outside=NOT_PUBLIC_CASE)
    ],
    (GET, "/follow/{token}"): lambda w: [
        Probe(f"/follow/{w.case_token['B']}", outside=NOT_PUBLIC_CASE, page=True)
    ],
    # ---- map layers and tiles
    (GET, "/api/v1/layers/areas"): lambda w: [
        Probe("/api/v1/layers/areas", inside=sees(STAFF, "township"), registry=REGISTRY),
        Probe("/api/v1/layers/areas", {"parent": TOWNSHIP_B}, registry=REGISTRY),
    ],
    (GET, "/api/v1/layers/buildings"): _listing(
        "/api/v1/layers/buildings", sees(STAFF, "building"), registry=True
    ),
    (GET, "/api/v1/layers/cases"): _listing("/api/v1/layers/cases", sees(CASE_READERS, "case_no")),
    # Case counts per township; the townships named come from the registry (the county's map).
    (GET, "/api/v1/wall/figures"): _listing(
        "/api/v1/wall/figures", sees(CASE_READERS), registry=True
    ),
    (GET, "/api/v1/layers/grids"): _listing(
        "/api/v1/layers/grids", sees(STAFF, "grid"), registry=True
    ),
    # Micro-grids: the matrix world has none, so only B must stay out.
    (GET, "/api/v1/micro-grids"): _listing("/api/v1/micro-grids", {}, registry=True),
    (GET, "/api/v1/micro-grids/stewards"): lambda w: [
        Probe("/api/v1/micro-grids/stewards", {"grid": G11}),
        Probe("/api/v1/micro-grids/stewards", {"grid": GRID_B}),
    ],
    # Standard addresses: the matrix world has no roads nor door numbers; only B must stay out.
    (GET, "/api/v1/roads"): _listing("/api/v1/roads", {}, registry=True),
    (GET, "/api/v1/door-numbers"): _listing("/api/v1/door-numbers", {}, registry=True),
    # Household and visit points carry no name nor code of their own (tests/app/): no inside marker.
    (GET, "/api/v1/layers/households"): _listing("/api/v1/layers/households", {}, **PERIOD),
    (GET, "/api/v1/layers/names"): _listing(
        "/api/v1/layers/names", sees(STAFF, "grid"), registry=True, level="grid"
    ),
    (GET, "/api/v1/layers/visits"): _listing("/api/v1/layers/visits", {}, **PERIOD),
    (GET, "/tiles/{layer}/{z}/{x}/{y}.mvt"): lambda w: [
        Probe(f"/tiles/{layer}/12/{TX}/{TY}.mvt", inside=sees(STAFF, mark), registry=REGISTRY)
        for layer, mark in (
            ("grids", "grid"),
            ("areas", "township"),
            ("buildings", "building_code"),
        )
    ],
    # ---- plans
    (GET, "/api/v1/plans"): _listing("/api/v1/plans", sees(PLAN_READERS, "plan")),
    (GET, "/api/v1/plans/{plan_id}"): _detail(
        "/api/v1/plans/{id}", lambda w: w.plan, sees(PLAN_READERS, "plan")
    ),
    (GET, "/api/v1/plans/{plan_id}/export"): lambda w: [
        Probe(
            f"/api/v1/plans/{w.plan['A']}/export",
            {"f": "geojson"},
            inside=sees(PLAN_READERS, "grid"),
        ),
        Probe(f"/api/v1/plans/{w.plan['B']}/export", {"f": "geojson"}),
        Probe(f"/api/v1/plans/{w.plan['B']}/export"),
    ],
    (GET, "/api/v1/plans/{plan_id}/impact"): _detail(
        "/api/v1/plans/{id}/impact", lambda w: w.plan, {}
    ),
    (GET, "/api/v1/plans/{plan_id}/lock"): _detail("/api/v1/plans/{id}/lock", lambda w: w.plan, {}),
    (GET, "/api/v1/plans/{plan_id}/validation"): _detail(
        "/api/v1/plans/{id}/validation", lambda w: w.plan, {}
    ),
    # ---- visits
    (GET, "/api/v1/visits/coverage"): _listing(
        "/api/v1/visits/coverage", sees(STAFF, "grid"), registry=True, by="grid", **PERIOD
    ),
    (GET, "/api/v1/visits/due"): lambda w: [
        # Everyone but a grid worker with a staff record must name a grid (a clear 422).
        Probe("/api/v1/visits/due", also=frozenset({422})),
        Probe("/api/v1/visits/due", {"grid": G11}),
        Probe("/api/v1/visits/due", {"grid": GRID_B}),
    ],
    # ---- OGC API – Features
    (GET, "/ogc"): _static("/ogc"),
    (GET, "/ogc/"): _static("/ogc/"),
    # ---- duties (docs/duties.md): the caller's own list; findings of the caller's area
    (GET, "/api/v1/duties/mine"): _static("/api/v1/duties/mine"),
    # A building leader's desk: refused to every other role (the matrix's roles have no building).
    (GET, "/api/v1/desk"): _static("/api/v1/desk"),
    # The area's building leaders and stewards (for giving logins): county admins, own area only.
    (GET, "/api/v1/desk/logins"): _listing("/api/v1/desk/logins", {}, registry=True),
    # Grids without a full-time worker are named from the registry (public map codes).
    (GET, "/api/v1/duties/findings"): _listing("/api/v1/duties/findings", {}, registry=True),
    (GET, "/ogc/conformance"): _static("/ogc/conformance"),
    (GET, "/ogc/collections"): lambda w: [
        Probe("/ogc/collections", inside=sees(PLAN_READERS, "plan"))
    ],
    (GET, "/ogc/collections/{collection_id}"): lambda w: [
        Probe("/ogc/collections/incidents"),
        Probe(f"/ogc/collections/plan-{w.plan['A']}", inside=sees(PLAN_READERS, "plan")),
        Probe(f"/ogc/collections/plan-{w.plan['B']}"),
        Probe("/ogc/collections/grids", outside=NOT_PUBLIC_MAP),
    ],
    (GET, "/ogc/collections/{collection_id}/items"): lambda w: [
        Probe("/ogc/collections/incidents/items", inside=sees(CASE_READERS, "case_no")),
        Probe(f"/ogc/collections/plan-{w.plan['A']}/items", inside=sees(PLAN_READERS, "plan")),
        Probe(f"/ogc/collections/plan-{w.plan['B']}/items"),
        Probe("/ogc/collections/grids/items", outside=NOT_PUBLIC_MAP),
        Probe("/ogc/collections/buildings/items", outside=NOT_PUBLIC_MAP),
        Probe("/ogc/collections/areas/items", outside=NOT_PUBLIC_MAP),
        Probe("/ogc/collections/areas-township/items", outside=NOT_PUBLIC_MAP),
        Probe("/ogc/collections/barriers/items", outside=NOT_PUBLIC_MAP),
        # Open cases as the public sees them, county-wide by design (docs/public.md): no person.
        Probe("/ogc/collections/public-incidents/items", outside=NOT_PUBLIC_CASE),
        Probe("/ogc/collections/incidents/items", {"filter": "state <> 'x'", "f": "html"}),
    ],
    (GET, "/ogc/collections/{collection_id}/queryables"): lambda w: [
        Probe("/ogc/collections/incidents/queryables"),
        Probe(f"/ogc/collections/plan-{w.plan['B']}/queryables"),
        Probe("/ogc/collections/grids/queryables", outside=NOT_PUBLIC_MAP),
    ],
    (GET, "/ogc/collections/{collection_id}/items/{feature_id}"): lambda w: [
        Probe(
            f"/ogc/collections/incidents/items/{w.case['A']}", inside=sees(CASE_READERS, "case_no")
        ),
        Probe(f"/ogc/collections/incidents/items/{w.case['B']}"),
    ],
    # ---- Open311 GeoReport v2 (public by design: cases county-wide, never a person)
    (GET, "/open311/v2/discovery.{fmt}"): _static("/open311/v2/discovery.json"),
    (GET, "/open311/v2/services.{fmt}"): _static("/open311/v2/services.json"),
    (GET, "/open311/v2/services/{code}.{fmt}"): _static("/open311/v2/services/MX01.json"),
    (GET, "/open311/v2/requests.{fmt}"): lambda w: [
        Probe(f"/open311/v2/requests.{fmt}", outside=NOT_PUBLIC_CASE) for fmt in ("json", "xml")
    ],
    (GET, "/open311/v2/requests/{rid}.{fmt}"): lambda w: [
        Probe(f"/open311/v2/requests/{w.case['B']}.json", outside=NOT_PUBLIC_CASE)
    ],
    (GET, "/open311/v2/tokens/{token}.{fmt}"): lambda w: [
        Probe(f"/open311/v2/tokens/{w.case_token['B']}.json", outside=NOT_PUBLIC_CASE)
    ],
    # ---- health, framework
    (GET, "/healthz"): _static("/healthz"),
    (GET, "/api/v1/meta"): _static("/api/v1/meta"),
    (GET, "/openapi.json"): _static("/openapi.json"),
    (GET, "/docs"): _static("/docs"),
    (GET, "/docs/oauth2-redirect"): _static("/docs/oauth2-redirect"),
    # ---- pages (shells: the data comes from the API above; an area outside is a 403 page)
    (GET, "/login"): _page("/login", area=False),
    (GET, "/login/totp"): _page("/login/totp", area=False),
    (GET, "/"): _page("/", area=False),
    (GET, "/console"): _page("/console"),
    (GET, "/maps/coverage"): _page("/maps/coverage"),
    (GET, "/maps/visits"): _page("/maps/visits"),
    (GET, "/maps/cases"): _page("/maps/cases"),
    (GET, "/planner"): _page("/planner"),
    (GET, "/dashboard"): _page("/dashboard"),
    (GET, "/audits"): _page("/audits"),
    (GET, "/register"): _page("/register"),
    (GET, "/addresses"): _page("/addresses"),
    (GET, "/admin/units"): _page("/admin/units"),
    (GET, "/wall"): _page("/wall"),
    (GET, "/m/"): _page("/m/", area=False),
    (GET, "/b/"): _page("/b/", area=False),
    (GET, "/m/sw.js"): _static("/m/sw.js"),  # the phone page's service worker: a script, no data
    # ---- party-building and task admission (docs/party.md): A's area, and B named as the area
    (GET, "/party"): _page("/party"),
    (GET, "/admission"): _page("/admission"),
    (GET, "/api/v1/party/orgs"): _listing("/api/v1/party/orgs", sees(PARTY_READERS, "grid")),
    (GET, "/api/v1/party/orgs/{org_id}/members"): _detail(
        "/api/v1/party/orgs/{id}/members", lambda w: w.party["org"], sees(PARTY_READERS, "head")
    ),
    (GET, "/api/v1/party/grids"): _listing("/api/v1/party/grids", sees(PARTY_READERS, "grid")),
    (GET, "/api/v1/party/figures"): _listing("/api/v1/party/figures", {}),
    (GET, "/api/v1/party/dual"): _listing("/api/v1/party/dual", sees(DUAL_READERS, "special_head")),
    (GET, "/api/v1/party/dual/{reg_id}/hours"): _detail(
        "/api/v1/party/dual/{id}/hours", lambda w: w.party["dual"], sees(DUAL_READERS, "case_note")
    ),
    (GET, "/api/v1/task-kinds"): _listing("/api/v1/task-kinds", {}),
    (GET, "/api/v1/grid-tasks"): _listing("/api/v1/grid-tasks", sees(TASK_READERS, "case_text")),
    (GET, "/api/v1/grid-tasks/mine"): lambda w: [
        Probe("/api/v1/grid-tasks/mine", inside=sees(frozenset({"grid_worker"}), "case_text"))
    ],
    (GET, "/api/v1/grid-tasks/load"): _listing("/api/v1/grid-tasks/load", {}),
}


def read_routes(app: Any) -> set[tuple[str, str]]:
    """(GET, path template) of every route that answers GET: the OpenAPI document's operations,
    plus the routes it leaves out (pages, the framework's docs), found by walking the app."""
    found = {(GET, p) for p, item in app.openapi()["paths"].items() if "get" in item}
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)  # FastAPI's _IncludedRouter
        for r in contexts() if contexts else [route]:
            if GET in (getattr(r, "methods", None) or ()):
                found.add((GET, r.path))
    return found


def test_every_read_route_has_a_rule(matrix_clients: dict[str, TestClient]) -> None:
    routes = read_routes(matrix_clients["filters"].app)
    missing = sorted(routes - RULES.keys())
    stale = sorted(RULES.keys() - routes)
    assert not missing, (
        "add a rule for this route (tests/access/test_matrix.py RULES): "
        + ", ".join(f"{m} {p}" for m, p in missing)
    )
    assert not stale, "a rule for a route the app no longer has: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )


def _forms(value: str) -> list[bytes]:
    """The ways a marker can be spelled in a body: UTF-8, JSON's \\u escapes, GB18030 (CSV)."""
    return [value.encode(), json.dumps(value)[1:-1].encode(), value.encode("gb18030")]


def _leaks(body: bytes, request_url: str, keys: tuple[str, ...]) -> list[str]:
    out = []
    for key in keys:
        value = B[key]
        if value in request_url:  # the caller named it: naming it back tells them nothing
            continue
        if any(form in body for form in _forms(value)):
            out.append(f"{key}={value}")
    return out


def _missing(body: bytes, keys: tuple[str, ...]) -> list[str]:
    return [f"{k}={A[k]}" for k in keys if not any(f in body for f in _forms(A[k]))]


def _ask(client: TestClient, probe: Probe, bearer: dict[str, str]) -> Any:
    headers = dict(bearer)
    if bearer and probe.page:  # a page reads the session cookie, not the header
        token = headers.pop("Authorization").removeprefix("Bearer ")
        headers["Cookie"] = f"gridgov_token={token}"
    return client.get(probe.path, params=probe.params, headers=headers, follow_redirects=False)


OK = {200, 401, 403, 404}
PAGE_OK = OK | {303, 307}


@pytest.mark.parametrize("mode", ["filters", "rls_only"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_matrix(
    route: tuple[str, str],
    role: str,
    mode: str,
    matrix_clients: dict[str, TestClient],
    matrix_tokens: dict[str, dict[str, str]],
    matrix_world: World,
) -> None:
    client = matrix_clients[mode]
    bearer = matrix_tokens[role]
    problems = []
    for probe in RULES[route](matrix_world):
        r = _ask(client, probe, bearer)
        where = f"{probe.path} {probe.params or ''} as {role} ({mode}): {r.status_code}"
        if r.status_code not in (PAGE_OK if probe.page else OK) | probe.also:
            problems.append(f"{where}: unexpected status; {r.text[:200]}")
        outside = probe.outside
        if mode == "rls_only":
            outside = tuple(k for k in outside if k not in probe.registry)
        leaked = _leaks(r.content, str(r.request.url), outside)
        if leaked:
            problems.append(f"{where}: township B's data in the answer: {', '.join(leaked)}")
        expected = probe.inside.get(role, ())
        if expected and r.status_code != 200:
            problems.append(f"{where}: this role may read it, expected 200; {r.text[:200]}")
        elif expected:
            absent = _missing(r.content, expected)
            if absent:
                problems.append(f"{where}: township A's own data missing: {', '.join(absent)}")
    assert not problems, "\n".join(problems)


# A county admin of the whole county sees township B: the markers are there to be found, and the
# matrix's silence about them means something.
FINDABLE: list[tuple[Callable[[World], Probe], tuple[str, ...]]] = [
    (lambda w: Probe("/api/v1/incidents"), ("case_no", "case_text")),
    (lambda w: Probe(f"/api/v1/incidents/{w.case['B']}"), ("case_no", "reporter_phone")),
    (lambda w: Probe(f"/api/v1/incidents/{w.case['B']}/history"), ("case_note",)),
    (lambda w: Probe("/api/v1/households", {"grid": GRID_B}), ("head", "special_phone")),
    (lambda w: Probe("/api/v1/plans"), ("plan",)),
    (lambda w: Probe("/api/v1/access-log"), ("reader",)),
    (lambda w: Probe(f"/api/v1/audits/{w.audit['B']}"), ("township",)),
    (lambda w: Probe("/api/v1/layers/grids"), ("grid", "leader_phone")),
    (lambda w: Probe("/api/v1/layers/buildings"), ("building",)),
]


@pytest.mark.parametrize("mode", ["filters", "rls_only"])
def test_outside_markers_are_findable(
    mode: str,
    matrix_clients: dict[str, TestClient],
    matrix_tokens: dict[str, dict[str, str]],
    matrix_world: World,
) -> None:
    missing = []
    for make, keys in FINDABLE:
        probe = make(matrix_world)
        r = _ask(matrix_clients[mode], probe, matrix_tokens["county_wide"])
        absent = [f"{k}={B[k]}" for k in keys if not any(f in r.content for f in _forms(B[k]))]
        if r.status_code != 200 or absent:
            missing.append(f"{probe.path} {probe.params}: {r.status_code}, missing {absent}")
    assert not missing, "\n".join(missing)


def test_rls_alone_counts_nothing_of_township_b(
    matrix_clients: dict[str, TestClient],
    matrix_tokens: dict[str, dict[str, str]],
) -> None:
    """With the application filters off, a dispatcher of A who names B still gets B's registry
    (the county's map has no row-level security), but every count over households, visits and
    staff assignments there is zero: those rows stay B's."""
    client, who = matrix_clients["rls_only"], matrix_tokens["dispatcher"]

    def ask(path: str, **params: Any) -> Any:
        r = _ask(client, Probe(path, params), who)
        assert r.status_code == 200, r.text
        return r.json()

    coverage = ask("/api/v1/visits/coverage", by="grid", area=TOWNSHIP_B, **PERIOD)
    assert [(row["code"], row["households"], row["visited"]) for row in coverage["rows"]] == [
        (GRID_B, 0, 0)
    ]
    assert coverage["workers"] == []
    grids = ask("/api/v1/layers/grids", area=TOWNSHIP_B)["features"]
    assert [(g["id"], g["properties"]["households"], g["properties"]["leader"]) for g in grids] == [
        (GRID_B, 0, None)
    ]
    areas = ask("/api/v1/layers/areas", parent=TOWNSHIP_B)["features"]
    assert [(a["id"], a["properties"]["households"]) for a in areas] == [(TOWNSHIP_B + "001", 0)]
