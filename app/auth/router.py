from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.deps import CurrentUser, require_roles
from app.auth.policy import Principal
from app.auth.schemas import Token, UserCreate, UserPublic
from app.db import SessionDep
from app.errors import Forbidden

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """OAuth2 password flow: exchange username and password for a bearer token."""
    user = service.authenticate(session, username=form.username, password=form.password)
    token = service.issue_token(user, request.app.state.settings)
    return Token(access_token=token, role=user.role, jurisdiction_code=user.jurisdiction_code)


@router.get("/me")
def me(principal: CurrentUser) -> dict[str, str]:
    return {
        "username": principal.username,
        "role": principal.role,
        "jurisdiction_code": principal.jurisdiction_code,
    }


AdminDep = Annotated[Principal, Depends(require_roles("county_admin"))]


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(session: SessionDep, data: UserCreate, admin: AdminDep) -> UserPublic:
    """Create a user inside the administrator's own jurisdiction."""
    if not admin.covers(data.jurisdiction_code):
        raise Forbidden(f"只能在本辖区（{admin.jurisdiction_code}）内创建用户")
    user = service.create_user(session, data=data)
    return UserPublic.model_validate(user, from_attributes=True)
