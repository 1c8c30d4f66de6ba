"""Errors as RFC 9457 ``application/problem+json``, from every exception the app can meet."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import (
    ApiError,
    IdempotencyConflictError,
    IllegalTransitionError,
    NotFoundError,
    SignatureError,
)
from missions.errors import MissionsError
from patrol.errors import PatrolError

__all__ = ["ProblemError", "install_problem_handlers", "problem"]

MEDIA_TYPE = "application/problem+json"

_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFoundError, 404, "Not found"),
    (IllegalTransitionError, 409, "Illegal state transition"),
    (IdempotencyConflictError, 409, "Idempotency key conflict"),
    (SignatureError, 401, "Bad signature"),
    (ApiError, 400, "Bad request"),
    (MissionsError, 400, "Bad request"),
    (PatrolError, 400, "Bad request"),
)


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(
    status: int, title: str, detail: str, *, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"Retry-After": str(extra["retry_after_s"])} if "retry_after_s" in extra else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, instance=request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem(422, "Invalid request", where, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail), instance=request.url.path)

    for cls, status, title in _STATUS:
        app.add_exception_handler(cls, _domain_handler(status, title))


def _domain_handler(status: int, title: str) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return problem(status, title, str(exc), instance=request.url.path)

    return handle
