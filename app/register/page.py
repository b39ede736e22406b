"""The register's review page for the community (desktop, Chinese): pending changes with their
diffs, approved or returned with a reason, and the register browsed masked (docs/register.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.web.deps import AreaQuery, PagePrincipal
from app.web.pages import _map_page

pages = APIRouter(include_in_schema=False)


@pages.get("/register")
def register_page(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    may_approve = principal.may(Resource.REGISTER_PROPOSAL, Action.APPROVE)
    return _map_page(
        request, session, principal, area, "/register", "register.html", may_approve=may_approve
    )
