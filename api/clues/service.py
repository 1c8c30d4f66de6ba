"""Queries and writes on clues (keyword-only; the caller owns the session and transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import shapely
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.clues.models import ClueRow, ClueStatus, ObservedAreaRow, SightingRow
from api.clues.rules import ObservedArea, PermitArea
from api.errors import NotFoundError
from missions.geo.layers import LayerKind, PermitKind
from missions.storage import load_layer

__all__ = [
    "BBoxDeg",
    "Seen",
    "candidate_clues",
    "get_clue",
    "list_clues",
    "load_observed",
    "load_permits",
    "record_observed_areas",
    "sightings_of",
]


@dataclass(frozen=True)
class BBoxDeg:
    """A WGS-84 box in degrees (min lon, min lat, max lon, max lat)."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    @classmethod
    def around(cls, geoms: Sequence[shapely.Geometry], margin_deg: float) -> BBoxDeg:
        x0, y0, x1, y1 = shapely.total_bounds(list(geoms))
        return cls(x0 - margin_deg, y0 - margin_deg, x1 + margin_deg, y1 + margin_deg)


@dataclass(frozen=True)
class Seen:
    """One stored sighting, as the confidence and the rules need it."""

    source: str
    score: float
    observed_at: datetime
    light: float | None = None


def candidate_clues(session: Session, *, bbox: BBoxDeg, seen_since: datetime) -> list[ClueRow]:
    """Clues whose bounding box meets ``bbox`` and that were seen since ``seen_since``."""
    query = (
        select(ClueRow)
        .where(
            ClueRow.minx <= bbox.maxx,
            ClueRow.maxx >= bbox.minx,
            ClueRow.miny <= bbox.maxy,
            ClueRow.maxy >= bbox.miny,
            ClueRow.last_seen_at >= seen_since,
        )
        .order_by(ClueRow.id)
    )
    return list(session.scalars(query))


def sightings_of(session: Session, *, clue_ids: Sequence[int]) -> dict[int, list[Seen]]:
    out: dict[int, list[Seen]] = defaultdict(list)
    if not clue_ids:
        return out
    query = select(
        SightingRow.clue_id,
        SightingRow.source,
        SightingRow.score,
        SightingRow.observed_at,
        SightingRow.light,
    ).where(SightingRow.clue_id.in_(list(clue_ids)))
    for clue_id, source, score, at, light in session.execute(query):
        out[clue_id].append(Seen(source, score, at, light))
    return out


def record_observed_areas(
    session: Session, *, areas: Sequence[tuple[shapely.Geometry, datetime, str]]
) -> int:
    """Remember ground seen clean(or not) at a time: the baseline for new structures."""
    for geom, at, source in areas:
        x0, y0, x1, y1 = (float(v) for v in shapely.bounds(geom))
        session.add(
            ObservedAreaRow(
                source=source, observed_at=at, minx=x0, miny=y0, maxx=x1, maxy=y1, geom=geom
            )
        )
    return len(areas)


def load_observed(session: Session, *, bbox: BBoxDeg) -> list[ObservedArea]:
    query = select(ObservedAreaRow.geom, ObservedAreaRow.observed_at).where(
        ObservedAreaRow.minx <= bbox.maxx,
        ObservedAreaRow.maxx >= bbox.minx,
        ObservedAreaRow.miny <= bbox.maxy,
        ObservedAreaRow.maxy >= bbox.miny,
    )
    return [ObservedArea(geom, at) for geom, at in session.execute(query)]


def load_permits(engine: Engine) -> list[PermitArea]:
    """The stored permits; a permit with an unknown kind is ignored (it cannot suppress)."""
    frame = load_layer(engine, LayerKind.PERMITS)
    kinds = {k.value for k in PermitKind}
    out: list[PermitArea] = []
    for row, geom in zip(frame.itertuples(index=False), frame.geometry.values, strict=True):
        if row.kind not in kinds:
            continue
        out.append(
            PermitArea(
                permit_no=str(row.permit_no or "(no number)"),
                kind=PermitKind(row.kind),
                valid_from=_plain_time(row.valid_from),
                valid_to=_plain_time(row.valid_to),
                geom=geom,
            )
        )
    return out


def _plain_time(value: object) -> datetime | None:
    """pandas gives NaT for a missing time and Timestamps for others: plain datetimes here."""
    if value is None or not isinstance(value, datetime) or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def get_clue(session: Session, *, clue_id: int) -> ClueRow:
    row = session.get(ClueRow, clue_id)
    if row is None:
        raise NotFoundError(f"no clue {clue_id}; list clues with `nestpatrol clues list`")
    return row


def list_clues(
    session: Session, *, status: ClueStatus | None = None, limit: int = 100
) -> list[ClueRow]:
    query = select(ClueRow).order_by(ClueRow.id).limit(limit)
    if status is not None:
        query = query.where(ClueRow.status == status.value)
    return list(session.scalars(query))
