from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from gis.codes import AREA_LEVELS, BadAreaCode, canonical, level_of

USERNAME = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


def _jurisdiction(code: str) -> str:
    """An area's code in its canonical form (330200 is the prefecture 3302); a grid is no
    jurisdiction."""
    try:
        short = canonical(code)
    except BadAreaCode as exc:
        raise ValueError(str(exc)) from exc
    if level_of(short) not in AREA_LEVELS:  # a grid or a micro-grid
        raise ValueError(f"辖区应为区划编码（省、市、县、乡镇或村/社区），{code} 是网格编码")
    return short


AreaCode = Annotated[str, AfterValidator(_jurisdiction)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str | None = Field(
        default=None, description="POST it to /api/v1/auth/refresh for the next pair (once)"
    )
    role: str
    jurisdiction_code: str
    totp_enrolment_required: bool = Field(
        default=False,
        description="this session may only enrol a second factor (POST /api/v1/auth/totp/enrol)",
    )


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class UserCreate(BaseModel):
    username: str = USERNAME
    # Length and strength are the password policy's (app/auth/passwords.py), with its messages.
    password: str = Field(max_length=128)
    full_name: str = Field(default="", max_length=64)
    role: str
    jurisdiction_code: AreaCode
    staff_code: str | None = Field(default=None, max_length=32)


class UserUpdate(BaseModel):
    role: str | None = None
    jurisdiction_code: AreaCode | None = None
    staff_code: str | None = Field(default=None, max_length=32, description='"" unlinks')
    full_name: str | None = Field(default=None, max_length=64)
    is_active: bool | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    jurisdiction_code: str
    is_active: bool = True


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=128)
    new_password: str = Field(max_length=128)


class TotpEnrolment(BaseModel):
    secret: str = Field(description="base32; type it into the authenticator app, or use the URI")
    otpauth_uri: str


class TotpCode(BaseModel):
    code: str = Field(min_length=6, max_length=8)


class Message(BaseModel):
    detail: str
