"""Login, the caller's identity, users and API keys (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.auth.models import Role
from api.auth.security import Principal, issue_token
from api.auth.service import authenticate, create_api_key, create_user
from api.http.deps import CurrentPrincipal, EngineDep, SettingsDep, require_roles
from api.http.problems import ProblemError

router = APIRouter(prefix="/api/v1", tags=["auth"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=80, examples=["dispatcher"])
    password: str = Field(min_length=1, max_length=200, examples=["correct horse battery"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    role: Role


class Me(BaseModel):
    name: str
    role: Role
    jurisdictions: list[str]


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=10, max_length=200)
    role: Role
    jurisdictions: list[str] = Field(default_factory=list, description="Officers: their scope.")


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=2, max_length=120, examples=["city dispatch hub"])
    role: Role = Role.DISPATCHER
    jurisdictions: list[str] = Field(default_factory=list)


class ApiKeyCreated(BaseModel):
    key: str = Field(description="Shown once; only its hash is stored.")


@router.post("/auth/login", response_model=TokenResponse)
def login(
    body: LoginRequest, request: Request, engine: EngineDep, settings: SettingsDep
) -> TokenResponse:
    """Password login; answers a short-lived bearer token. Rate-limited per client and user."""
    client = request.client.host if request.client else "unknown"
    request.app.state.login_limiter.check(client, body.username)
    principal = authenticate(engine, username=body.username, password=body.password)
    if principal is None:
        raise ProblemError(401, "Unauthorized", "wrong user name or password")
    token = issue_token(
        principal, secret=settings.secret_key.get_secret_value(), ttl_s=settings.token_ttl_s
    )
    return TokenResponse(access_token=token, expires_in=settings.token_ttl_s, role=principal.role)


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal) -> Me:
    return Me(name=principal.name, role=principal.role, jurisdictions=list(principal.jurisdictions))


@router.post("/users", status_code=201, response_model=Me)
def add_user(body: UserCreate, admin: Admin, engine: EngineDep) -> Me:
    create_user(
        engine,
        username=body.username,
        password=body.password,
        role=body.role,
        jurisdictions=body.jurisdictions,
        actor=admin.name,
    )
    return Me(name=body.username, role=body.role, jurisdictions=body.jurisdictions)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def add_api_key(body: ApiKeyCreate, admin: Admin, engine: EngineDep) -> ApiKeyCreated:
    key = create_api_key(
        engine, name=body.name, role=body.role, jurisdictions=body.jurisdictions, actor=admin.name
    )
    return ApiKeyCreated(key=key)
