"""The building desk page (/b/): a phone-sized shell for building leaders and unit stewards whose
script loads everything from /api/v1/desk, /api/v1/incidents and /api/v1/register/proposals."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth.policy import Action, Resource
from app.web.deps import PagePrincipal, page_context, render, require_page

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/b/")
def desk(request: Request, principal: PagePrincipal) -> Response:
    """My building: report a problem there, the cases open there, residents' changes to confirm."""
    require_page(principal, "/b/")
    ctx = page_context(request, principal)
    ctx["cfg"]["may"] = {"confirm": principal.may(Resource.REGISTER_PROPOSAL, Action.UPDATE)}
    return render(request, "desk.html", ctx)
