"""Who may see and do what: the one place for role and jurisdiction rules (docs/security.md#access).

Two questions decide every access, and both are answered here and nowhere else:

1. **May this role do this action on this kind of thing?** ``POLICY`` is the table (role × resource ×
   action); ``allowed`` reads it. Which fields a role sees unmasked is the second table, ``UNMASKED``.
2. **Is this record inside the caller's jurisdiction?** Jurisdiction is an area code, and codes nest
   by prefix (province 2 digits → prefecture 4 → county 6 → township 9 → community 12 → grid 15,
   in the canonical form of gis.codes.canonical), so "X is inside J" is a prefix
   test: ``within(code, prefix)`` in Python and ``scope_range`` (a half-open range, index-friendly)
   in SQL. PostgreSQL enforces the same range with row-level security (migration 0012), so a query
   that forgets its filter still returns nothing outside the caller's area.

Routers and services never compare role strings or code prefixes themselves: they ask this module,
through ``app.auth.scope`` (the dependency every surface uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"
    PLANNER = "planner"
    DISPATCHER = "dispatcher"
    GRID_WORKER = "grid_worker"
    AUDITOR = "auditor"
    # Staff of a responsible unit (a functional department, a 派驻 agency, a township office):
    # they see and act on the cases dispatched to their unit (docs/domain.md#responsible-units).
    UNIT_HANDLER = "unit_handler"
    PUBLIC = "public"
    # 楼栋长 and 单元管家: residents who look after one building (or one unit of it); their
    # jurisdiction is their grid, their desk their building or unit (docs/duties.md).
    BUILDING_LEADER = "building_leader"
    UNIT_STEWARD = "unit_steward"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[str, str] = {
    Role.COUNTY_ADMIN: "县级管理员",
    Role.PLANNER: "网格规划员",
    Role.DISPATCHER: "指挥调度员",
    Role.GRID_WORKER: "网格员",
    Role.AUDITOR: "督查审计员",
    Role.UNIT_HANDLER: "承办单位",
    Role.PUBLIC: "公众",
    Role.BUILDING_LEADER: "楼栋长",
    Role.UNIT_STEWARD: "单元管家",
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def roles_label(roles: frozenset[Role] | tuple[str, ...]) -> str:
    """ "县级管理员、指挥调度员" in the table's order, for messages."""
    return "、".join(ROLE_LABELS[r] for r in Role if r in roles)


class Resource(StrEnum):
    """The kinds of things access is decided for (coarser than tables, finer than packages)."""

    INCIDENT = "incident"  # cases inside the jurisdiction: list, detail, history, photos
    INCIDENT_CATEGORY = "incident_category"
    KPI = "kpi"
    # A case followed and rated by its reporter: the case's token is the credential
    # (docs/domain.md#residents-ratings), so the role only has to be someone.
    CASE_FOLLOW = "case_follow"
    HOUSEHOLD = "household"  # household records (address, head, phone, special groups)
    HOUSEHOLD_POINT = "household_point"  # where households are, on maps (a household record too)
    ACCESS_LOG = "access_log"  # who read which household record
    VISIT = "visit"
    VISIT_COVERAGE = "visit_coverage"  # aggregates only
    AUDIT = "audit"
    PLAN = "plan"
    IMPORT = "import"
    USER = "user"
    OPEN311_CLIENT = "open311_client"
    REGISTRY = "registry"  # areas, grids, buildings, barriers: the shared map of the county
    # The county's outline map as anyone may see it (the OGC API): area, grid and building
    # shapes, names and codes; no staff, no household, no case.
    PUBLIC_MAP = "public_map"
    STAFF_DIRECTORY = "staff_directory"  # grid staff names (phones per UNMASKED)
    # Responsible units, their members and the routing table (category × area → unit)
    UNIT = "unit"
    # The register (一标三实, docs/register.md): persons, houses, organisations and their history
    REGISTER = "register"
    # Changes to the register: proposed in the field, confirmed by a building leader, reviewed
    # (approved or returned) by the community
    REGISTER_PROPOSAL = "register_proposal"
    # The register's import and export files (GB/T 31000-shaped)
    REGISTER_EXCHANGE = "register_exchange"
    # Micro-grids (微网格) inside grids and their stewards (docs/domain.md#micro-grids)
    MICRO_GRID = "micro_grid"
    # Standard addresses: roads, door numbers and the buildings behind them (docs/addresses.md)
    ADDRESS = "address"
    # Workforce duties (docs/duties.md): arrivals (四必到) and the duties each person owes
    DUTY = "duty"
    # A building leader's or unit steward's desk: the cases open at their building or unit
    BUILDING_DESK = "building_desk"
    # Party organisations in the grid, their members and the grids they cover (docs/party.md)
    PARTY = "party"
    # 双报到: in-service party members registered with a community, and the hours they serve
    DUAL_SERVICE = "dual_service"
    # The county's task admission list (网格事务准入清单) and the tasks given to grid workers
    TASK_KIND = "task_kind"
    GRID_TASK = "grid_task"


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"  # edit, transition
    APPROVE = "approve"


_ALL_STAFF = frozenset(
    {Role.COUNTY_ADMIN, Role.PLANNER, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR}
)
_ADMIN = frozenset({Role.COUNTY_ADMIN})
_BUILDING_STAFF = frozenset({Role.BUILDING_LEADER, Role.UNIT_STEWARD})

# The policy (docs/security.md#access). Absent = refused. Jurisdiction always applies on top.
POLICY: dict[tuple[Resource, Action], frozenset[Role]] = {
    # Cases: staff who handle or oversee them read them; planners draw boundaries, not cases.
    (Resource.INCIDENT, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR, Role.UNIT_HANDLER}
    ),
    # Anyone may report (residents, anonymously too): docs/domain.md#incident-lifecycle.
    (Resource.INCIDENT, Action.CREATE): frozenset(Role),
    (Resource.INCIDENT_CATEGORY, Action.READ): frozenset(Role),
    (Resource.INCIDENT_CATEGORY, Action.UPDATE): _ADMIN,
    (Resource.KPI, Action.READ): frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER, Role.AUDITOR}),
    (Resource.CASE_FOLLOW, Action.READ): frozenset(Role),
    (Resource.CASE_FOLLOW, Action.CREATE): frozenset(Role),
    # Household records: those who work with residents, and auditors (masked). Planners and the
    # public read none (they see counts per grid, never a household).
    (Resource.HOUSEHOLD, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR}
    ),
    (Resource.HOUSEHOLD_POINT, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR}
    ),
    (Resource.ACCESS_LOG, Action.READ): frozenset({Role.COUNTY_ADMIN, Role.AUDITOR}),
    (Resource.VISIT, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR}
    ),
    (Resource.VISIT, Action.CREATE): frozenset({Role.GRID_WORKER, Role.DISPATCHER}),
    (Resource.VISIT_COVERAGE, Action.READ): _ALL_STAFF,
    (Resource.AUDIT, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.AUDITOR, Role.PLANNER, Role.DISPATCHER}
    ),
    # Dispatchers read coverage audits (where grids lack leaders or visits) but do not run them:
    # running one is the auditors', planners' and administrators' work (docs/audits.md).
    (Resource.AUDIT, Action.CREATE): frozenset({Role.COUNTY_ADMIN, Role.AUDITOR, Role.PLANNER}),
    (Resource.PLAN, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.PLANNER, Role.AUDITOR, Role.DISPATCHER}
    ),
    (Resource.PLAN, Action.CREATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    (Resource.PLAN, Action.UPDATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    (Resource.PLAN, Action.APPROVE): _ADMIN,
    (Resource.IMPORT, Action.CREATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    (Resource.USER, Action.CREATE): _ADMIN,
    (Resource.USER, Action.UPDATE): _ADMIN,
    (Resource.USER, Action.READ): _ADMIN,
    (Resource.OPEN311_CLIENT, Action.CREATE): _ADMIN,
    # The registry (areas, grids, buildings, roads) is the county's public map; staff layers on it
    # are scoped by jurisdiction like everything else.
    # (the staff of responsible units too: they find their cases on the map)
    (Resource.REGISTRY, Action.READ): _ALL_STAFF | {Role.UNIT_HANDLER},
    (Resource.PUBLIC_MAP, Action.READ): frozenset(Role),
    (Resource.STAFF_DIRECTORY, Action.READ): frozenset(Role),
    # Units and routing: read by those who dispatch, handle or oversee cases; edited by the county.
    (Resource.UNIT, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR, Role.UNIT_HANDLER}
    ),
    (Resource.UNIT, Action.UPDATE): _ADMIN,
    # The register: read (masked per UNMASKED) by those who work with residents and by auditors;
    # changed only through proposals, which grid workers file in the grids they serve
    # (EDITS_SERVED_GRIDS_ONLY) and the community's staff review (docs/register.md).
    (Resource.REGISTER, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR}
    ),
    # (building leaders and unit stewards read the changes they are asked to confirm, masked)
    (Resource.REGISTER_PROPOSAL, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR} | _BUILDING_STAFF
    ),
    # (a building leader's or steward's own report counts as confirmed: it goes to the community)
    (Resource.REGISTER_PROPOSAL, Action.CREATE): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER} | _BUILDING_STAFF
    ),
    # Confirming a resident's change before it goes to the community: the building's own people.
    (Resource.REGISTER_PROPOSAL, Action.UPDATE): frozenset(
        {Role.BUILDING_LEADER, Role.UNIT_STEWARD}
    ),
    (Resource.REGISTER_PROPOSAL, Action.APPROVE): frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER}),
    (Resource.REGISTER_EXCHANGE, Action.READ): _ADMIN,
    (Resource.REGISTER_EXCHANGE, Action.CREATE): _ADMIN,
    # Micro-grids: read with the registry; drawn and staffed by planners and the county admin.
    (Resource.MICRO_GRID, Action.READ): _ALL_STAFF | {Role.UNIT_HANDLER},
    (Resource.MICRO_GRID, Action.CREATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    (Resource.MICRO_GRID, Action.UPDATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    # Standard addresses are part of the county's map: read by the staff who read the registry,
    # kept by those who keep the map (planners, administrators), as buildings and grids are.
    (Resource.ADDRESS, Action.READ): _ALL_STAFF | {Role.UNIT_HANDLER},
    (Resource.ADDRESS, Action.CREATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    (Resource.ADDRESS, Action.UPDATE): frozenset({Role.COUNTY_ADMIN, Role.PLANNER}),
    # Duties: each worker reads their own and records arrivals; those who oversee the grids
    # read everyone's findings in their jurisdiction (docs/duties.md).
    (Resource.DUTY, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR}
    ),
    (Resource.DUTY, Action.CREATE): frozenset({Role.GRID_WORKER}),
    # Building leaders and unit stewards see their own building or unit, nothing more.
    (Resource.BUILDING_DESK, Action.READ): _BUILDING_STAFF,
    (Resource.BUILDING_DESK, Action.UPDATE): _BUILDING_STAFF,
    # Party organisations: staff read them (the coverage map shows which grids have one); the
    # county office and the community/township command centres keep them (docs/party.md).
    (Resource.PARTY, Action.READ): _ALL_STAFF,
    (Resource.PARTY, Action.UPDATE): frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER}),
    # 双报到: the community registers members; a unit's member (a unit handler) reads and logs
    # their own hours only (PERSONAL_ONLY), the community logs hours for anyone it registered.
    (Resource.DUAL_SERVICE, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.AUDITOR, Role.UNIT_HANDLER}
    ),
    (Resource.DUAL_SERVICE, Action.CREATE): frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER}),
    (Resource.DUAL_SERVICE, Action.UPDATE): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.UNIT_HANDLER}
    ),
    # The admission list: read by everyone who gives or takes tasks, kept by the county admin.
    (Resource.TASK_KIND, Action.READ): _ALL_STAFF | {Role.UNIT_HANDLER},
    (Resource.TASK_KIND, Action.UPDATE): _ADMIN,
    # Tasks for grid workers: given by departments and the county/township office, done by the
    # worker they were given to; read by them and by those who oversee the workload.
    (Resource.GRID_TASK, Action.READ): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.AUDITOR, Role.GRID_WORKER, Role.UNIT_HANDLER}
    ),
    (Resource.GRID_TASK, Action.CREATE): frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.UNIT_HANDLER}
    ),
    (Resource.GRID_TASK, Action.UPDATE): frozenset({Role.GRID_WORKER}),
}

# Roles that see only the cases of their own unit inside their jurisdiction (the unit's staff
# answer for what is dispatched to them, not for the whole area).
UNIT_BOUND: frozenset[Role] = frozenset({Role.UNIT_HANDLER})

# Roles that read only their own records of some resources: a grid worker the tasks given to
# them, a unit's member their own 双报到 registration (docs/party.md).
PERSONAL_ONLY: dict[Resource, frozenset[Role]] = {
    Resource.GRID_TASK: frozenset({Role.GRID_WORKER}),
    Resource.DUAL_SERVICE: frozenset({Role.UNIT_HANDLER}),
}


def personal_only(principal: Principal, resource: Resource) -> bool:
    """``principal`` reads only their own records of ``resource`` (``PERSONAL_ONLY``)."""
    return principal.role in PERSONAL_ONLY.get(resource, frozenset())


class Field(StrEnum):
    """Personal fields shown in full only to some roles (and only inside the jurisdiction)."""

    STAFF_PHONE = "staff_phone"  # grid staff's phone numbers
    RESIDENT_CONTACT = "resident_contact"  # household head's name and phone
    SPECIAL_GROUPS = "special_groups"  # which special group a household belongs to
    REPORTER_CONTACT = "reporter_contact"  # the name and phone of whoever reported a case
    ID_NUMBER = "id_number"  # a person's ID number in the register (docs/register.md)
    PARTY_CONTACT = "party_contact"  # party members' and 双报到 members' phones


UNMASKED: dict[Field, frozenset[Role]] = {
    # Planners draw boundaries and the public sees a masked number: both get the name only.
    Field.STAFF_PHONE: frozenset(
        {Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.AUDITOR, Role.UNIT_HANDLER}
    ),
    # Those who work with residents; a grid worker only in the grids they serve (see scope.py).
    Field.RESIDENT_CONTACT: frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER}),
    # Auditors check the special-group visits, so they see the groups, masked names.
    Field.SPECIAL_GROUPS: frozenset({Role.COUNTY_ADMIN, Role.GRID_WORKER, Role.AUDITOR}),
    Field.REPORTER_CONTACT: frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER, Role.GRID_WORKER}),
    # The full ID number: the county office, and a grid worker in the grids they serve (they
    # collect it); reviewers see it masked (a change of it shows as changed).
    Field.ID_NUMBER: frozenset({Role.COUNTY_ADMIN, Role.GRID_WORKER}),
    Field.PARTY_CONTACT: frozenset({Role.COUNTY_ADMIN, Role.DISPATCHER}),
}

# A grid worker's personal-data rights reach only the grids they serve, not their whole township.
SERVED_GRIDS_ONLY: frozenset[Field] = frozenset(
    {Field.RESIDENT_CONTACT, Field.SPECIAL_GROUPS, Field.ID_NUMBER}
)

# Roles whose changes to the register reach only the grids they serve (not their whole area).
EDITS_SERVED_GRIDS_ONLY: frozenset[Role] = frozenset({Role.GRID_WORKER})


def allowed(role: str, resource: Resource, action: Action) -> bool:
    return role in POLICY.get((resource, action), frozenset())


def allowed_roles(resource: Resource, action: Action) -> frozenset[Role]:
    return POLICY.get((resource, action), frozenset())


# The database roles each transaction works as (migration 0012; app/db.py declares them).
APP_ROLE = "gridgov_app"  # a request, inside the caller's jurisdiction
INTAKE_ROLE = "gridgov_intake"  # filing a case, for anyone, anywhere
SYSTEM_ROLE = "gridgov_system"  # the worker, the CLI, start-up

# ---- jurisdiction: the prefix rule --------------------------------------------------------------

# Codes are digits, and '~' sorts after every digit, so [p, p || '~') holds exactly the codes that
# start with p. The same bounds are used by SQL filters and by the row-level security policies.
SCOPE_END = "~"


def within(code: str | None, prefix: str) -> bool:
    """True if ``code`` lies inside the area ``prefix`` (an empty prefix covers nothing)."""
    return bool(prefix) and code is not None and code.startswith(prefix)


def scope_range(prefix: str) -> tuple[str, str]:
    """The half-open text range [lo, hi) of codes inside ``prefix``, for SQL."""
    return prefix, prefix + SCOPE_END


@dataclass(frozen=True)
class Principal:
    """The caller: a logged-in user, or the anonymous public."""

    username: str
    role: str
    jurisdiction_code: str
    user_id: int | None = None
    staff_id: int | None = None
    session_id: str | None = None
    # For a grid worker: the grids they serve today (filled when the principal is resolved).
    served_grids: frozenset[str] = field(default_factory=frozenset)
    # A named system job (CLI, worker, migration): the whole database, under its own database role.
    system: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_public(self) -> bool:
        return self.role == Role.PUBLIC or self.is_anonymous

    @property
    def scope_prefix(self) -> str:
        """The jurisdiction as a code prefix; the public has none (it sees no scoped record)."""
        return "" if self.role == Role.PUBLIC else self.jurisdiction_code

    def covers(self, code: str | None) -> bool:
        """True if an area or grid code lies within this principal's jurisdiction."""
        if self.system:
            return code is not None
        return within(code, self.scope_prefix)

    @property
    def unit_bound(self) -> bool:
        """Sees only the cases of their own unit (``UNIT_BOUND``)."""
        return self.role in UNIT_BOUND

    def may(self, resource: Resource, action: Action) -> bool:
        return allowed(self.role, resource, action)

    def sees(self, what: Field, grid_code: str | None) -> bool:
        """Whether ``what`` is shown unmasked for a record in ``grid_code``."""
        if self.role not in UNMASKED[what] or not self.covers(grid_code):
            return False
        if self.role == Role.GRID_WORKER and what in SERVED_GRIDS_ONLY:
            return grid_code in self.served_grids
        return True

    def sees_phone_of(self, grid_code: str) -> bool:
        return self.sees(Field.STAFF_PHONE, grid_code)

    def edits_in(self, grid_code: str | None) -> bool:
        """Whether this principal may propose changes to the register's records in ``grid_code``:
        inside the jurisdiction and, for a grid worker, in a grid they serve."""
        if not self.covers(grid_code):
            return False
        if self.role in EDITS_SERVED_GRIDS_ONLY:
            return grid_code in self.served_grids
        return True


ANONYMOUS = Principal(username="anonymous", role=Role.PUBLIC, jurisdiction_code="")


def system_principal(name: str, role: Role = Role.COUNTY_ADMIN) -> Principal:
    """A named system job acting with ``role``'s rights over the whole database (CLI, worker)."""
    return Principal(username=name, role=role, jurisdiction_code="", system=True)


# Household records (docs/domain.md#people): kept as names for the callers that read them.
HOUSEHOLD_READERS = tuple(sorted(allowed_roles(Resource.HOUSEHOLD, Action.READ)))


def sees_resident_details(principal: Principal, grid_code: str | None) -> bool:
    return principal.sees(Field.RESIDENT_CONTACT, grid_code)


def sees_special_groups(principal: Principal, grid_code: str | None) -> bool:
    return principal.sees(Field.SPECIAL_GROUPS, grid_code)


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
