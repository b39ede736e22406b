from pydantic import BaseModel, Field


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    jurisdiction_code: str


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=128)
    full_name: str = ""
    role: str
    jurisdiction_code: str = Field(pattern=r"^[0-9]{6}([0-9]{3}){0,2}$")
    staff_code: str | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    jurisdiction_code: str
