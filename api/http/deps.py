"""Request dependencies: the engine, the settings, the caller and role checks, rate limits."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Annotated

import jwt
from fastapi import Depends, Path, Request
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.security import Principal, decode_token
from api.auth.service import principal_for_key
from api.http.problems import ProblemError
from missions.settings import Settings

__all__ = ["CurrentPrincipal", "EngineDep", "LoginLimiter", "SettingsDep", "require_roles"]


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


EngineDep = Annotated[Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]


def _principal(request: Request, engine: EngineDep, settings: SettingsDep) -> Principal:
    key = request.headers.get("x-api-key")
    if key:
        found = principal_for_key(engine, key)
        if found is None:
            raise ProblemError(401, "Unauthorized", "unknown or revoked API key")
        return found
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(
            401,
            "Unauthorized",
            "send 'Authorization: Bearer <token>' (POST /api/v1/auth/login) "
            "or an 'X-API-Key' header",
        )
    try:
        return decode_token(token, secret=settings.secret_key.get_secret_value())
    except jwt.ExpiredSignatureError as e:
        raise ProblemError(401, "Unauthorized", "the access token expired; log in again") from e
    except jwt.InvalidTokenError as e:
        raise ProblemError(401, "Unauthorized", f"invalid access token ({e})") from e


CurrentPrincipal = Annotated[Principal, Depends(_principal)]

MAX_ROW_ID = 2**63 - 1  # a 64-bit key: larger numbers are no ids on any backend
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Row id (positive 64-bit integer).")]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` (admins always) through."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role is not Role.ADMIN and principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ProblemError(
                403, "Forbidden", f"this needs the role {allowed}; you are {principal.role.value}"
            )
        return principal

    return check


class LoginLimiter:
    """At most ``per_minute`` login attempts per client address and user name (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, client: str, username: str) -> None:
        now = time.monotonic()
        hits = self._hits[(client, username)]
        while hits and now - hits[0] > 60.0:
            hits.popleft()
        if len(hits) >= self.per_minute:
            wait = int(60.0 - (now - hits[0])) + 1
            raise ProblemError(
                429,
                "Too many login attempts",
                f"wait {wait} s before trying again",
                retry_after_s=wait,
            )
        hits.append(now)
