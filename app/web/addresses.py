"""The standard-address page (/addresses): roads and door numbers kept by planners and county
administrators; a shell whose script loads and edits everything through /api/v1/roads and
/api/v1/door-numbers, and tries addresses against the geocoder (docs/addresses.md#editing)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth.deps import SessionDep
from app.web.deps import (
    AreaQuery,
    PagePrincipal,
    area_info,
    checked_area,
    page_context,
    render,
    require_page,
)

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/addresses")
def addresses(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    require_page(principal, "/addresses")
    code = checked_area(principal, area)
    ctx = page_context(request, principal, area=code, area_info=area_info(session, code))
    return render(request, "addresses.html", ctx)
