"""Photos of the handling (处置照片): which belong to the current round, and the rule that a case
whose category asks for a photo to close is not 处置完毕 without one (docs/domain.md#field-tasks-the-phone).

A handling photo is kept in the case's ``photos`` list beside the reporter's, marked with
``stage: "handle"`` and the round it belongs to (the case's ``rework_count`` when it was taken: a
返工 or 核查未解决 starts a new round, which needs its own photo).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.incidents.categories import close_photo_required
from app.incidents.models import Incident, IncidentCategory

STAGE = "handle"


def round_photos(incident: Incident) -> list[dict[str, Any]]:
    """The handling photos of the case's current round."""
    return [
        p
        for p in incident.photos or ()
        if p.get("stage") == STAGE and p.get("round") == incident.rework_count
    ]


def photo_required(session: Session, incident: Incident) -> bool:
    condition = session.scalar(
        select(IncidentCategory.close_condition).where(
            IncidentCategory.code == incident.category_code
        )
    )
    return close_photo_required(condition or "")


def require_handling_photo(session: Session, incident: Incident) -> None:
    """Refuse 处置完毕 (422) when the category's close condition asks for a photo and this round
    has none; nothing is written."""
    if round_photos(incident) or not photo_required(session, incident):
        return
    raise InvalidInput(
        f"photos: 案件 {incident.case_no} 的结案条件要求现场照片，请先上传处置照片再点处置完毕",
        field="photos",
    )
