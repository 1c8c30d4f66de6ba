"""Open311 GeoReport v2 under ``/open311/v2/`` (thin: parsing and status codes only).

POST bodies may be form-encoded (as the spec says) or JSON. Errors are GeoReport error lists
``[{"code": …, "description": …}]`` whose description says what to fix.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth.models import Role
from api.auth.security import Principal
from api.auth.service import principal_for_key
from api.errors import ApiError, CategoryTableError, IdempotencyConflictError, NotFoundError
from api.http.deps import MAX_ROW_ID
from api.open311 import service
from api.open311.models import CreatedRequest, CreateRequest, Open311Status
from api.tickets.categories import CategoryTable, load_category_table

__all__ = ["router"]

router = APIRouter(prefix="/open311/v2", tags=["open311"])

_NO_KEY = (
    "requests need an api_key (query or form parameter, or the X-API-Key header) from an admin "
    "(POST /api/v1/api-keys); officers use the ticket views instead"
)


def _caller(engine: Engine, key: str | None) -> Principal | None:
    """The machine client behind ``api_key``; officers are refused (their scope is per ticket)."""
    if not key:
        return None
    found = principal_for_key(engine, key)
    if found is None or found.role is Role.OFFICER:
        return None
    return found


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _table(request: Request) -> CategoryTable:
    """The city's table from ``app.state.category_table``, else the shipped example."""
    table = getattr(request.app.state, "category_table", None)
    if not isinstance(table, CategoryTable):
        table = load_category_table()
        request.app.state.category_table = table
    return table


EngineDep = Annotated[Engine, Depends(_engine)]
TableDep = Annotated[CategoryTable, Depends(_table)]


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _status_of(e: ApiError) -> int:
    if isinstance(e, NotFoundError):
        return 404
    if isinstance(e, IdempotencyConflictError):
        return 422
    return 400


@router.get("/services.json")
def list_services(table: TableDep) -> list[dict[str, Any]]:
    return [s.model_dump() for s in service.services(table)]


@router.post("/requests.json", response_model=None)
async def post_request(
    request: Request,
    engine: EngineDep,
    table: TableDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse | list[dict[str, Any]]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            params = json.loads(raw)
        else:
            params = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        key = params.pop("api_key", None) or request.headers.get("x-api-key")
        req = CreateRequest.model_validate(params)
    except (ValueError, ValidationError) as e:
        return _error(400, f"bad request parameters ({e}); send service_code, lat and long")
    if _caller(engine, key) is None:
        return _error(403, _NO_KEY)
    try:
        ticket_id, replayed = await run_in_threadpool(
            service.create_request, engine, req=req, table=table, idempotency_key=idempotency_key
        )
    except CategoryTableError as e:
        return _error(400, f"{e}; list the codes at services.json")
    except ApiError as e:
        return _error(_status_of(e), str(e))
    body = [CreatedRequest(service_request_id=str(ticket_id)).model_dump()]
    return JSONResponse(body, status_code=200 if replayed else 201)


@router.get("/requests.json", response_model=None)
def get_requests(
    request: Request,
    engine: EngineDep,
    table: TableDep,
    api_key: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> JSONResponse | list[dict[str, Any]]:
    if _caller(engine, api_key or request.headers.get("x-api-key")) is None:
        return _error(403, _NO_KEY)
    try:
        ids = [int(x) for x in _split(service_request_id)]
        statuses = [Open311Status(x) for x in _split(status)]
        if any(not 0 < i <= MAX_ROW_ID for i in ids):
            raise ValueError(f"service_request_id out of range 1..{MAX_ROW_ID}")
    except ValueError as e:
        return _error(400, f"{e}; ids are integers and status is open or closed")
    with Session(engine) as session:
        rows = service.find_requests(
            session,
            ids=ids,
            service_codes=_split(service_code),
            statuses=statuses,
            start=start_date,
            end=end_date,
        )
        return [service.to_open311(r, table).model_dump(mode="json") for r in rows]


@router.get("/requests/{request_id}.json", response_model=None)
def get_request(
    request_id: str,
    request: Request,
    engine: EngineDep,
    table: TableDep,
    api_key: str | None = None,
) -> JSONResponse | list[dict[str, Any]]:
    if _caller(engine, api_key or request.headers.get("x-api-key")) is None:
        return _error(403, _NO_KEY)
    if not request_id.isdigit() or int(request_id) > MAX_ROW_ID:
        return _error(404, f"no service request {request_id!r}; ids are integers")
    with Session(engine) as session:
        try:
            row = service.get_request(session, ticket_id=int(request_id))
        except NotFoundError as e:
            return _error(404, str(e))
        return [service.to_open311(row, table).model_dump(mode="json")]


def _split(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]
