"""The ticket map's list, with the features' GeoJSON text built by the database.

Why: at 100,000 tickets a page of ~200 features cost ~30 ms of Python CPU per request when each
row was loaded into an ORM object, validated into ``TicketRead``, dumped to a dict and
``json.dumps``-ed again; the SQL itself takes a few ms. Here PostgreSQL
(``json_build_object``) or SQLite (``json_object``) writes each feature's text, and Python
only joins them into the page. The output is the FeatureCollection the ORM path gave
(``_feature`` in ``api.tickets.views``, which the single-ticket endpoints still use);
``tests/api/tickets/test_list_geojson_sql.py`` compares the two on both backends.

Which rows a caller sees is decided by :func:`list_select`, one query for both
representations: officers' jurisdictions are a condition of that query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Engine,
    Float,
    Select,
    Text,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Dialect

from api.auth.models import Role
from api.auth.security import Principal
from api.http.pagination import encode_cursor
from api.tickets.models import TicketRead, TicketRow
from api.tickets.workflow import CLOSED, TicketStatus
from missions.storage import BBox
from missions.storage.types import UtcDateTime

__all__ = ["TicketListQuery", "feature_collection_json", "list_select", "scoped"]


@dataclass(frozen=True)
class TicketListQuery:
    """What the list endpoint was asked for, already validated (bbox parsed, cursor decoded)."""

    principal: Principal
    statuses: tuple[TicketStatus, ...] = ()
    jurisdiction: str | None = None
    overdue: bool | None = None
    box: BBox | None = None
    after_id: int | None = None
    limit: int = 200


def scoped(query: Select[Any], principal: Principal) -> Select[Any]:
    """``query`` restricted to the tickets ``principal`` may see (officers: their jurisdictions)."""
    if principal.role is Role.OFFICER:
        return query.where(TicketRow.jurisdiction.in_(list(principal.jurisdictions)))
    return query


def list_select(q: TicketListQuery) -> Select[Any]:
    """Tickets of one keyset page, ordered by id: the list's rows for either representation."""
    query = scoped(select(TicketRow), q.principal).order_by(TicketRow.id).limit(q.limit)
    if q.statuses:
        query = query.where(TicketRow.status.in_([s.value for s in q.statuses]))
    if q.jurisdiction is not None:
        query = query.where(TicketRow.jurisdiction == q.jurisdiction)
    if q.overdue is not None:
        query = query.where(TicketRow.overdue.is_(q.overdue))
    if q.box is not None:
        query = query.where(
            TicketRow.lon.between(q.box.min_lon, q.box.max_lon),
            TicketRow.lat.between(q.box.min_lat, q.box.max_lat),
        )
    if q.after_id is not None:
        query = query.where(TicketRow.id > q.after_id)
    return query


def feature_collection_json(engine: Engine, q: TicketListQuery) -> str:
    """The page as FeatureCollection text: each feature's JSON from the database, the
    ``next_cursor`` (the last id when the page is full) here.

    One SELECT on a connection in autocommit mode: a single statement needs no transaction, and
    the BEGIN and ROLLBACK round trips are saved. The features come one per row and are joined
    here: the same on both backends, and measured no slower than ``json_agg`` on PostgreSQL.
    """
    page = list_select(q).with_only_columns(
        TicketRow.id.label("id"), _feature_sql(engine.dialect).label("feature")
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        rows = conn.execute(page).all()
    features = ",".join(r.feature for r in rows)
    next_cursor = encode_cursor(str(rows[-1].id)) if len(rows) == q.limit else None
    return (
        '{"type": "FeatureCollection", "features": '
        f'[{features}], "next_cursor": {json.dumps(next_cursor)}}}'
    )


# --- one feature's JSON, per dialect ------------------------------------------------------------


_RENDERED: dict[str, ColumnElement[str]] = {}


def _feature_sql(dialect: Dialect) -> ColumnElement[str]:
    """:func:`_feature` rendered once per dialect: the ~60-node expression costs about 1 ms a
    request to build and to hash for SQLAlchemy's statement cache; a literal costs nothing."""
    found = _RENDERED.get(dialect.name)
    if found is None:
        postgres = dialect.name == "postgresql"
        sql = str(_feature(postgres).compile(dialect=dialect))
        # json_build_object gives ``json``, which the driver would parse: ask for its text
        found = literal_column(f"({sql})::text" if postgres else sql, Text)
        _RENDERED[dialect.name] = found
    return found


def _key(name: str) -> ColumnElement[str]:
    """A JSON key or constant, inline in the SQL (names are ours: no quoting needed)."""
    return literal_column(f"'{name}'", Text)


def _property(name: str, postgres: bool) -> ColumnElement[Any]:
    """One ``TicketRead`` field as the JSON value ``model_dump(mode="json")`` gives it."""
    col = TicketRow.__table__.c[name]
    if isinstance(col.type, UtcDateTime):
        return _pg_time(col) if postgres else _sqlite_time(col)
    if postgres:
        return col  # json_build_object renders float8 shortest-exact, booleans, json as is
    if isinstance(col.type, Float):
        return _sqlite_real(col)
    if isinstance(col.type, Boolean):
        return func.json(case((col.is_(True), _key("true")), else_=_key("false")))
    if isinstance(col.type, JSON):
        return func.json(col)
    return col


def _pg_time(col: ColumnElement[Any]) -> ColumnElement[str]:
    """pydantic's ISO form: UTC with ``Z``, microseconds only when there are any."""
    iso = func.to_char(func.timezone(_key("UTC"), col), _key('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    return func.replace(iso, _key(".000000Z"), _key("Z"))


def _sqlite_time(col: ColumnElement[Any]) -> ColumnElement[str]:
    """SQLAlchemy stores ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC, naive) on SQLite."""
    iso = func.replace(col, _key(" "), _key("T")).op("||")(_key("Z"))
    return func.replace(iso, _key(".000000Z"), _key("Z"))


def _sqlite_real(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQLite's JSON keeps 15 digits of a REAL; 17 where 15 would not give the same double."""
    short = func.printf(_key("%!.15g"), col)
    exact = func.printf(_key("%!.17g"), col)
    return func.json(case((cast(short, Float) == col, short), else_=exact))


def _feature(postgres: bool) -> ColumnElement[str]:
    """``{"type": "Feature", "id", "geometry": Point(lon, lat), "properties"}`` as JSON text."""
    obj = func.json_build_object if postgres else func.json_object
    props: list[ColumnElement[Any]] = []
    for name in TicketRead.model_fields:
        props += [_key(name), _property(name, postgres)]
    closed = TicketRow.status.in_([_key(s.value) for s in sorted(CLOSED)])
    open311 = case((closed, _key("closed")), else_=_key("open"))
    props += [_key("open311_status"), open311]
    lon, lat = _property("lon", postgres), _property("lat", postgres)
    coords = func.json_build_array(lon, lat) if postgres else func.json_array(lon, lat)
    geometry = obj(_key("type"), _key("Point"), _key("coordinates"), coords)
    return obj(
        _key("type"), _key("Feature"), _key("id"), TicketRow.id,
        _key("geometry"), geometry, _key("properties"), obj(*props),
        type_=Text,
    )  # fmt: skip
