"""Residents follow and rate their case through its link: ``/follow/{token}`` (the page, a plain
form that works on any phone without script), ``GET /api/v1/follow/{token}`` and
``POST /api/v1/incidents/{id}/rating`` (apps, Open311 clients). The rules are in rating.py
(docs/domain.md#residents-ratings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access_whole
from app.db import intake_access, request_unit
from app.incidents import rating as svc
from app.incidents import statemachine as sm
from app.incidents.deps import CalendarDep
from app.incidents.public import follow_path
from app.incidents.schemas import FollowOut, RatingIn, RatingOut
from app.params import BigId
from app.web.templating import templates

router = APIRouter(tags=["residents"])
Follower = Annotated[AreaScope, Depends(access_whole(Resource.CASE_FOLLOW))]
Rater = Annotated[AreaScope, Depends(access_whole(Resource.CASE_FOLLOW, Action.CREATE))]


def _view(request: Request, who: AreaScope, token: str) -> svc.FollowView:
    # The token is the credential: the intake role reads the one case it names (rating.py).
    with request_unit(request, intake_access(who.principal)) as session:
        return svc.follow(session, token)


@router.get("/api/v1/follow/{token}", response_model=FollowOut)
def follow_case(token: str, request: Request, who: Follower) -> FollowOut:
    """The case the follow-up token names, as its reporter may see it; an unknown token is 403."""
    return FollowOut.model_validate(_view(request, who, token), from_attributes=True)


@router.post("/api/v1/incidents/{incident_id}/rating", response_model=RatingOut, status_code=201)
def rate_case(
    incident_id: BigId, body: RatingIn, request: Request, who: Rater, calendar: CalendarDep
) -> RatingOut:
    """A resident's rating of a closed case (满意 ``satisfied`` / 基本满意 ``basically`` / 不满意
    ``unsatisfied``, with a comment; required for 不满意). ``token`` is the case's follow-up token:
    without it, or with another case's, 403. A 不满意 reopens the case as the county configures."""
    with request_unit(request, intake_access(who.principal)) as session:
        incident, row = svc.rate(
            session,
            token=body.token,
            rating=body.rating,
            comment=body.comment,
            principal=who.principal,
            settings=request.app.state.settings.incidents,
            calendar=calendar,
            incident_id=incident_id,
        )
        return RatingOut(
            case_no=incident.case_no,
            rating=row.rating,
            rating_label=svc.RATING_LABELS[row.rating],
            reopened=row.reopened,
            state=incident.state,
            state_label=sm.STATE_LABELS[incident.state],
        )


@router.get("/follow/{token}", include_in_schema=False)
def follow_page(token: str, request: Request, who: Follower, done: str | None = None) -> Response:
    view = _view(request, who, token)
    ctx = {
        "request": request,
        "nav": [],
        "view": view,
        "token": token,
        "ratings": svc.RATING_LABELS,
        "done": done,
    }
    # The token is in the address: not cached, not sent on as a referrer.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return templates.TemplateResponse(request, "follow.html", ctx, headers=headers)


@router.post("/follow/{token}", include_in_schema=False)
def follow_rate(
    token: str,
    request: Request,
    who: Rater,
    calendar: CalendarDep,
    rating: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The page's form: the same rating, then back to the page saying what happened."""
    with request_unit(request, intake_access(who.principal)) as session:
        _, row = svc.rate(
            session,
            token=token,
            rating=rating,
            comment=comment,
            principal=who.principal,
            settings=request.app.state.settings.incidents,
            calendar=calendar,
        )
        done = "reopened" if row.reopened else "rated"
    return RedirectResponse(f"{follow_path(token)}?done={done}", status_code=303)
