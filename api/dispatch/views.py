"""HTTP surface of dispatch: the inbound status-callback endpoint (thin; logic in callbacks)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.dispatch.callbacks import apply_callback
from api.errors import ApiError, IllegalTransitionError, NotFoundError, SignatureError

__all__ = ["http_error", "router"]


def http_error(e: ApiError) -> HTTPException:
    """Map an :class:`ApiError` to its HTTP status, keeping the message that says the fix."""
    status = 400
    if isinstance(e, SignatureError):
        status = 401
    elif isinstance(e, NotFoundError):
        status = 404
    elif isinstance(e, IllegalTransitionError):
        status = 409
    return HTTPException(status_code=status, detail=str(e))


def _engine(request: Request) -> Engine:
    """The app's engine (``app.state.engine``, set once when the app is created)."""
    engine: Engine = request.app.state.engine
    return engine


router = APIRouter(prefix="/dispatch", tags=["dispatch"])


@router.post("/callbacks")
async def receive_callback(
    request: Request, engine: Annotated[Engine, Depends(_engine)]
) -> dict[str, Any]:
    """A status callback from dispatch (Standard Webhooks signed; applied at most once)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        result = await run_in_threadpool(
            apply_callback, engine, headers=dict(request.headers), body=body
        )
    except ApiError as e:
        raise http_error(e) from e
    return {
        "webhook_id": result.webhook_id,
        "ticket_id": result.ticket_id,
        "outcome": result.outcome,
        "replayed": result.replayed,
    }
