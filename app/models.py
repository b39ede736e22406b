"""Every table, imported in one place so Alembic's autogenerate/check sees the whole schema.

Each domain package adds its models module here.
"""

from app.addresses.models import BuildingUnit, DoorBuilding, DoorNumber, Road, Room  # noqa: F401
from app.admission.models import GridTask, TaskKind  # noqa: F401
from app.areas.models import Area
from app.audits.models import AuditFinding, AuditRun  # noqa: F401
from app.audittrail.models import AuditEvent  # noqa: F401
from app.auth.models import User
from app.barriers.models import Barrier
from app.base import Base
from app.buildings.models import Building, Household
from app.duties.models import DutyArrival  # noqa: F401
from app.grids.models import Grid
from app.health.models import WorkerHeartbeat  # noqa: F401
from app.households.models import AccessLog
from app.incidents.models import IncidentCategory  # noqa: F401
from app.microgrids.models import MicroGrid  # noqa: F401
from app.party.models import (  # noqa: F401
    DualRegistration,
    PartyMember,
    PartyOrg,
    PartyOrgGrid,
    ServiceHours,
)
from app.plans.models import Plan, PlanGrid  # noqa: F401
from app.register.models import House, Organisation, Person, Proposal, RegisterHistory  # noqa: F401
from app.registry_models import RegistryChange, RegistryConfig
from app.staff.models import Staff, StaffAssignment
from app.units.models import RoutingRule, Unit, UnitMember  # noqa: F401
from app.visits.models import Visit  # noqa: F401

__all__ = [
    "AccessLog",
    "Area",
    "Barrier",
    "Base",
    "Building",
    "Grid",
    "Household",
    "RegistryChange",
    "RegistryConfig",
    "Staff",
    "StaffAssignment",
    "User",
]
