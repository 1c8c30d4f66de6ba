"""Store and load planned sorties (the schedule the patrol controller and exporters read)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

import shapely
from sqlalchemy import Engine, delete, insert, select

from missions.errors import StorageError
from missions.planning.sortie import Sortie, Waypoint, WaypointAction
from missions.storage.models import SortieRow

__all__ = ["load_sortie", "load_sorties", "save_sorties"]


def _waypoint(data: dict[str, object]) -> Waypoint:
    values = dict(data)
    values["action"] = WaypointAction(str(values["action"]))
    return Waypoint(**values)  # type: ignore[arg-type]


def _sortie(row: SortieRow) -> Sortie:
    return Sortie(
        sortie_id=row.sortie_id,
        nest_id=row.nest_id,
        waypoints=[_waypoint(w) for w in row.waypoints],
        cell_ids=list(row.cell_ids),
        estimated_duration_s=row.duration_s,
        planned_start=row.planned_start,
    )


def save_sorties(engine: Engine, sorties: Sequence[Sortie], classes: Sequence[str]) -> int:
    """Replace the stored sorties with these (one priority class label per sortie)."""
    now = datetime.now(UTC)
    rows = [
        {
            "sortie_id": s.sortie_id,
            "nest_id": s.nest_id,
            "priority": cls,
            "planned_start": s.planned_start,
            "duration_s": s.estimated_duration_s,
            "cell_ids": list(s.cell_ids),
            "waypoints": [{**dataclasses.asdict(w), "action": w.action.value} for w in s.waypoints],
            "created_at": now,
            "geom": shapely.LineString([(w.lon, w.lat) for w in s.waypoints]),
        }
        for s, cls in zip(sorties, classes, strict=True)
    ]
    with engine.begin() as conn:
        # verification sorties (requested by tickets) outlive a re-plan of the patrol
        conn.execute(delete(SortieRow).where(SortieRow.priority != "verification"))
        if rows:
            conn.execute(insert(SortieRow), rows)
    return len(rows)


def load_sorties(engine: Engine) -> list[Sortie]:
    with engine.connect() as conn:
        rows = conn.execute(select(SortieRow).order_by(SortieRow.planned_start)).all()
    return [_sortie(r) for r in rows]  # type: ignore[arg-type]


def load_sortie(engine: Engine, sortie_id: str) -> Sortie:
    with engine.connect() as conn:
        row = conn.execute(select(SortieRow).where(SortieRow.sortie_id == sortie_id)).first()
    if row is None:
        raise StorageError(
            f"no sortie {sortie_id!r}; plan with `nestpatrol plan schedule` and pick an id "
            "from its sorties.geojson"
        )
    return _sortie(row)  # type: ignore[arg-type]
