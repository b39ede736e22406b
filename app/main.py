"""App factory. ``create_app(settings)`` builds the service; the lifespan opens and closes the engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import apidocs
from app.addresses.router import router as addresses_router
from app.admission.router import router as admission_router
from app.areas.router import router as areas_router
from app.audits.router import router as audits_router
from app.audittrail.middleware import AuditWritesMiddleware
from app.audittrail.router import router as audittrail_router
from app.auth.keys import signing_key
from app.auth.router import router as auth_router
from app.auth.startup import refuse_demo_passwords
from app.db import (
    access_sessionmaker,
    make_engine,
    resolve_database_url,
    sync_registry_config,
    system_factory,
    unit_of_work,
)
from app.desk.router import router as desk_router
from app.duties.router import router as duties_router
from app.errors import install_error_handlers
from app.geocode.router import router as geocode_router
from app.health.router import router as health_router
from app.households.router import router as households_router
from app.http import install as install_edge
from app.imports.router import router as imports_router
from app.incidents.api import ROUTERS as INCIDENT_ROUTERS
from app.incidents.calendar import check_today, default_calendar
from app.incidents.stream import close_case_stream
from app.locate.registry import GridRegistry
from app.locate.router import router as locate_router
from app.meta.router import router as meta_router
from app.microgrids.router import router as microgrids_router
from app.ogc.router import router as ogc_router
from app.party.router import router as party_router
from app.plans.router import router as plans_router
from app.register.page import pages as register_pages
from app.register.router import router as register_router
from app.settings import Settings
from app.units.router import router as units_router
from app.visits.router import router as visits_router
from app.web import addresses as web_addresses
from app.web import cases as web_cases
from app.web import desk as web_desk
from app.web import layers as web_layers
from app.web import pages as web_pages
from app.web import party as web_party
from app.web import visits_layer as web_visits
from app.web import wall as web_wall
from app.web.deps import LoginRequired, to_login
from app.web.templating import WEB_DIR

logger = logging.getLogger(__name__)

# Each domain's router. Starlette tries routes in order, so the busiest APIs (locate, intake) come
# first and the pages last; /docs groups by tag, not by this order.
ROUTERS = [locate_router, *INCIDENT_ROUTERS, geocode_router, auth_router, households_router]
ROUTERS += [visits_router, audits_router, plans_router, imports_router, areas_router, ogc_router]
ROUTERS += [audittrail_router, health_router, meta_router, units_router]
ROUTERS += [microgrids_router]
ROUTERS += [register_router, register_pages]
ROUTERS += [addresses_router]
ROUTERS += [web_layers.router, web_cases.router, web_visits.router, web_pages.router]
ROUTERS += [web_wall.router, web_wall.pages]
ROUTERS += [party_router, admission_router, web_party.router]
ROUTERS += [web_addresses.router]
ROUTERS += [duties_router, desk_router, web_desk.router]


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    session_factory: Callable[[], Session] | None = None,
) -> FastAPI:
    """Build the app from ``settings``, which reach every route as ``request.app.state.settings``
    (nothing below the entry points reads the environment). Tests pass ``session_factory`` bound
    to a rolled-back connection."""
    signing_key(settings)  # no key, no start (app/auth/keys.py)
    # No working calendar for today, no start (docs/domain.md#deadlines-and-the-calendar).
    for warning in check_today(default_calendar()):
        logger.warning(warning)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None and session_factory is None
        eng = (
            make_engine(resolve_database_url(settings), pool_size=settings.db_pool_size)
            if own_engine
            else engine
        )
        if session_factory is not None:
            factory = session_factory
        elif eng is not None:
            factory = access_sessionmaker(eng)
        else:
            raise ValueError("create_app needs an engine or a session_factory")
        app.state.sessionmaker = factory
        app.state.engine = eng
        if eng is not None and own_engine:
            with unit_of_work(eng) as session:
                sync_registry_config(session, settings)
                if settings.environment == "production":
                    refuse_demo_passwords(session)
        app.state.registry = GridRegistry(
            system_factory(factory),
            refresh_seconds=settings.locate_refresh_seconds,
            edge_distance_m=settings.edge_distance_m,
            index_dir=settings.locate_index_dir or None,
        )
        if own_engine:
            # Build this worker's locate index before it takes traffic, so no request pays for it.
            try:
                await run_in_threadpool(app.state.registry.snapshot)
            except SQLAlchemyError as exc:  # e.g. not migrated yet: the first request will retry
                logger.warning("locate registry not loaded at start-up: %s", exc)
        try:
            yield
        finally:
            await close_case_stream(app)  # the live stream's listener, if one was started
            if own_engine and eng is not None:
                eng.dispose()

    app = FastAPI(
        title="gridgov 网格化服务管理平台",
        version="0.1.0",
        description="Grid registry, routing (point/address → grid → leader), imports, auth.",
        lifespan=lifespan,
        docs_url=None,  # served from this machine by app/apidocs.py, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_exception_handler(LoginRequired, to_login)  # a page without a session: not an error
    install_edge(app, settings)
    # Outermost, so writes refused by the edge (CSRF, body limits) are in the audit trail too.
    app.add_middleware(AuditWritesMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    apidocs.install(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    return app
