"""Sign-in, sessions, accounts and the second factor (docs/security.md#identification-and-authentication).

A refused sign-in or refresh is *answered*, not raised, so the request's transaction commits what
the refusal must keep: the failure count, the audit record, a revoked session.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.deps import CurrentUser, SessionDep, require_roles
from app.auth.policy import Action, Principal, Resource
from app.auth.schemas import (
    Message,
    PasswordChange,
    RefreshRequest,
    Token,
    TotpCode,
    TotpEnrolment,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from app.auth.scope import AreaScope, access_whole
from app.errors import Forbidden, GridgovError, problem_for, render

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def answer_refusal(request: Request, exc: GridgovError) -> Response:
    """The error response for ``exc`` without raising it (the transaction still commits)."""
    problem = problem_for(request, exc)
    assert problem is not None
    problem.headers.update(getattr(exc, "headers", {}))
    return render(request, problem)


def _token(signed: service.SignedIn) -> Token:
    return Token(
        access_token=signed.access_token,
        expires_in=signed.expires_in,
        refresh_token=signed.refresh_token,
        role=signed.user.role,
        jurisdiction_code=signed.user.jurisdiction_code,
        totp_enrolment_required=signed.session.purpose == "enrol",
    )


@router.post(
    "/token",
    response_model=Token,
    responses={423: {"description": "account locked"}, 429: {"description": "too many failures"}},
)
def login(
    request: Request,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    totp: Annotated[str | None, Form(max_length=8, description="动态口令, once enrolled")] = None,
) -> Token | Response:
    """OAuth2 password flow: username and password (and ``totp`` once a second factor is enrolled)
    for a short access token and a refresh token. Five failures in a row lock the account for 15
    minutes (423); many failures from one address are refused for a while (429); both say when."""
    try:
        signed = service.sign_in(
            session,
            username=form.username,
            password=form.password,
            code=totp,
            address=client_address(request),
            kind="api",
            settings=request.app.state.settings,
        )
    except service.LoginRefused as exc:
        return answer_refusal(request, exc)
    return _token(signed)


@router.post("/refresh", response_model=Token)
def refresh(request: Request, session: SessionDep, body: RefreshRequest) -> Token | Response:
    """The next access token and refresh token for a refresh token, which is then spent: presenting
    it again ends the session (someone holds a copy)."""
    try:
        signed = service.refresh(
            session, refresh_token=body.refresh_token, settings=request.app.state.settings
        )
    except GridgovError as exc:
        return answer_refusal(request, exc)
    return _token(signed)


@router.post("/logout", response_model=Message)
def logout(request: Request, session: SessionDep, principal: CurrentUser) -> Message:
    """End this session: its access and refresh tokens stop working at once."""
    service.sign_out(
        session,
        session_id=principal.session_id,
        username=principal.username,
        address=client_address(request),
    )
    return Message(detail="已退出登录")


@router.get("/me")
def me(principal: CurrentUser) -> dict[str, str]:
    return {
        "username": principal.username,
        "role": principal.role,
        "jurisdiction_code": principal.jurisdiction_code,
    }


@router.post("/password", response_model=Message)
def change_password(
    request: Request, session: SessionDep, body: PasswordChange, principal: CurrentUser
) -> Message:
    """Change one's own password; every session of the user ends (log in again)."""
    user = service.user_by_id(session, principal.user_id or 0)
    service.change_own_password(
        session,
        user,
        current=body.current_password,
        new=body.new_password,
        policy=request.app.state.settings.auth,
    )
    return Message(detail="密码已修改，请用新密码重新登录")


@router.post("/totp/enrol", response_model=TotpEnrolment)
def totp_enrol(request: Request, session: SessionDep, principal: CurrentUser) -> TotpEnrolment:
    """A new TOTP secret for the caller's authenticator app (not active until confirmed)."""
    user = service.user_by_id(session, principal.user_id or 0)
    secret, uri = service.start_totp_enrolment(session, user, settings=request.app.state.settings)
    return TotpEnrolment(secret=secret, otpauth_uri=uri)


@router.post("/totp/confirm", response_model=Message)
def totp_confirm(
    request: Request, session: SessionDep, body: TotpCode, principal: CurrentUser
) -> Message:
    """Confirm enrolment with a first code; from then on sign-in needs the code too."""
    user = service.user_by_id(session, principal.user_id or 0)
    service.confirm_totp_enrolment(
        session,
        user,
        code=body.code,
        settings=request.app.state.settings,
        address=client_address(request),
    )
    return Message(detail="动态口令已启用，请重新登录（登录时需输入动态口令）")


AdminDep = Annotated[Principal, Depends(require_roles("county_admin"))]


UserCreator = Annotated[AreaScope, Depends(access_whole(Resource.USER, Action.CREATE))]


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(
    request: Request, session: SessionDep, data: UserCreate, creator: UserCreator
) -> UserPublic:
    """Create a user inside the administrator's own jurisdiction (password policy applies)."""
    # The users table has no row-level security behind it, so this is the principal's own check,
    # which the test switch (Settings.access_app_filters) never turns off.
    admin = creator.principal
    if not admin.covers(data.jurisdiction_code):
        raise Forbidden(f"只能在本辖区（{admin.jurisdiction_code}）内创建用户")
    user = service.create_user(session, data=data, policy=request.app.state.settings.auth)
    return UserPublic.model_validate(user, from_attributes=True)


@router.patch("/users/{username}", response_model=UserPublic)
def change_user(
    session: SessionDep, username: str, data: UserUpdate, admin: AdminDep
) -> UserPublic:
    """Change a user's role, jurisdiction, staff link, name or active flag (both the user and any new
    jurisdiction inside the administrator's). A change to what they may do ends their sessions."""
    user = service.get_user(session, username)
    if not admin.covers(user.jurisdiction_code) or (
        data.jurisdiction_code is not None and not admin.covers(data.jurisdiction_code)
    ):
        raise Forbidden(f"只能管理本辖区（{admin.jurisdiction_code}）内的用户")
    service.update_user(session, user, data=data)
    return UserPublic.model_validate(user, from_attributes=True)
