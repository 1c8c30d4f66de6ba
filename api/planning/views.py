"""Dispatcher endpoints: the stored day's sorties and rapid response (nearest drone, ETA)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from api.auth.models import Role
from api.auth.security import Principal
from api.geography.views import GEOJSON
from api.http.deps import CurrentPrincipal, EngineDep, SettingsDep, require_roles
from api.http.problems import ProblemError
from missions.flows.plan import light_plan
from missions.planning.fleetplan import FleetPlan
from missions.planning.respond import RapidResponder
from missions.storage.sorties import load_sorties

router = APIRouter(prefix="/api/v1", tags=["planning"])
Dispatcher = Annotated[Principal, Depends(require_roles(Role.DISPATCHER))]
_lock = threading.Lock()


class RespondRequest(BaseModel):
    lon: float = Field(ge=-180, le=180, examples=[113.36])
    lat: float = Field(ge=-90, le=90, examples=[22.94])
    at: datetime | None = Field(default=None, description="Time of the call (default now).")


class RespondOption(BaseModel):
    nest_id: str
    eta_s: float
    path_m: float
    preempts: list[str]


class RespondResponse(BaseModel):
    best: RespondOption | None
    alternatives: list[RespondOption]
    path: dict[str, Any] | None = Field(description="GeoJSON LineString of the best flight path.")
    reason: str


def _plan(request: Request) -> FleetPlan:
    """The fleet's fixed planning parts, built once per app (nests, zones, transit graph)."""
    with _lock:
        plan: FleetPlan | None = getattr(request.app.state, "light_plan", None)
        if plan is None:
            plan = light_plan(request.app.state.engine, request.app.state.settings.tz)
            request.app.state.light_plan = plan
        return plan


@router.get("/sorties", responses={200: {"content": {GEOJSON: {}}}})
def sorties(_: CurrentPrincipal, engine: EngineDep) -> Response:
    """The stored schedule's sorties: one LineString per sortie with nest, start, end."""
    features = []
    for s in load_sorties(engine):
        features.append(
            {
                "type": "Feature",
                "id": s.sortie_id,
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[w.lon, w.lat] for w in s.waypoints],
                },
                "properties": {
                    "sortie_id": s.sortie_id,
                    "nest_id": s.nest_id,
                    "start": s.planned_start.isoformat() if s.planned_start else None,
                    "end": s.planned_end.isoformat() if s.planned_end else None,
                    "duration_s": s.estimated_duration_s,
                    "cells": len(s.cell_ids),
                },
            }
        )
    return Response(
        json.dumps({"type": "FeatureCollection", "features": features}), media_type=GEOJSON
    )


@router.post("/respond", response_model=RespondResponse)
def respond(
    body: RespondRequest, request: Request, _: Dispatcher, engine: EngineDep, settings: SettingsDep
) -> RespondResponse:
    """Send the nearest drone: earliest arrival (no-fly-aware, battery, launch) and its ETA."""
    at = body.at or datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=settings.tz)
    plan = _plan(request)
    answer = RapidResponder(plan, sorties=load_sorties(engine)).respond(
        lon=body.lon, lat=body.lat, at=at
    )
    options = [
        RespondOption(
            nest_id=o.nest_id,
            eta_s=round(o.eta_s, 1),
            path_m=round(o.path_m, 1),
            preempts=list(o.preempts),
        )
        for o in answer.options
    ]
    path = None
    if answer.best is not None:
        lonlat = plan.frame.to_wgs84(np.asarray(answer.best.path_xy, dtype=float))
        path = {"type": "LineString", "coordinates": lonlat.tolist()}
    elif not answer.reason:
        raise ProblemError(409, "No drone available", "no nest can reach the point now")
    return RespondResponse(
        best=options[0] if answer.best else None,
        alternatives=options[1:4],
        path=path,
        reason=answer.reason,
    )
