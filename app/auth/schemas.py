from pydantic import BaseModel, Field

USERNAME = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
AREA_CODE = r"^[0-9]{6}([0-9]{3}){0,2}$"


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
    jurisdiction_code: str = Field(pattern=AREA_CODE)
    staff_code: str | None = Field(default=None, max_length=32)


class UserUpdate(BaseModel):
    role: str | None = None
    jurisdiction_code: str | None = Field(default=None, pattern=AREA_CODE)
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
