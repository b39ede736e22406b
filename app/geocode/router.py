from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import CurrentPrincipal, SessionDep
from app.geocode import service
from app.geocode.schemas import GeocodePublic
from app.locate.router import SnapshotDep

router = APIRouter(prefix="/api/v1", tags=["locate"])


@router.get("/geocode", response_model=GeocodePublic)
def geocode(
    snapshot: SnapshotDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    address: Annotated[str, Query(min_length=1, max_length=200, description="中文地址")],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> GeocodePublic:
    """Match a Chinese address against the building gazetteer (exact, alias, fuzzy), then locate it.

    ``match_level`` says how far down the match went (room / building / compound / community);
    an ambiguous address returns ranked ``candidates``. No match: 404 with the closest candidates.
    """
    return service.geocode(snapshot, session, address=address, principal=principal, limit=limit)
