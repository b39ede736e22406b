"""Every router of the incidents domain, for app.main's ROUTERS."""

from app.incidents.field_router import router as field_router
from app.incidents.kpis.router import router as kpis_router
from app.incidents.open311 import admin_router
from app.incidents.open311 import router as open311_router
from app.incidents.residents import router as residents_router
from app.incidents.router import router
from app.incidents.stream import router as stream_router

# The field routes' fixed paths (/incidents/mine, /incidents/nearby) come before /incidents/{id}.
ROUTERS = [field_router, router, admin_router, open311_router, stream_router, residents_router]
ROUTERS += [kpis_router]
