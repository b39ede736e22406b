"""Every router of the incidents domain, for app.main's ROUTERS."""

from app.incidents.kpis.router import router as kpis_router
from app.incidents.open311 import admin_router
from app.incidents.open311 import router as open311_router
from app.incidents.residents import router as residents_router
from app.incidents.router import router

ROUTERS = [router, admin_router, open311_router, residents_router]
ROUTERS += [kpis_router]
