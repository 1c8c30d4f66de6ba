"""Attribute parsing for geography features: source properties → normalised, typed values."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from missions.geo.layers import (
    COLUMN_ALIASES,
    LAYER_COLUMNS,
    REQUIRED_COLUMNS,
    JurisdictionLevel,
    LayerKind,
    PermitKind,
    PriorityClass,
)

__all__ = ["AttributeProblemError", "parse_attributes"]


class AttributeProblemError(ValueError):
    """A property value is unusable; the message names the property and what is accepted."""


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    missing = pd.isna(value)
    return isinstance(missing, bool | np.bool_) and bool(missing)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _metres(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as e:
        raise AttributeProblemError(f"{value!r} is not a number of metres") from e
    if not math.isfinite(out) or out < 0:
        raise AttributeProblemError(f"{value!r} must be a finite number of metres ≥ 0")
    return out


def _when(tz: ZoneInfo) -> Callable[[Any], datetime]:
    def parse(value: Any) -> datetime:
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        if isinstance(value, datetime):
            out = value
        elif isinstance(value, date):
            out = datetime.combine(value, time())
        else:
            try:
                out = datetime.fromisoformat(_text(value))
            except ValueError as e:
                raise AttributeProblemError(
                    f"{value!r} is not an ISO-8601 date or time (e.g. 2026-11-23 or "
                    "2026-11-23T08:00+08:00)"
                ) from e
        if out.tzinfo is None:
            out = out.replace(tzinfo=tz)
        return out.astimezone(UTC)

    return parse


def _clock(value: Any) -> str:
    try:
        return time.fromisoformat(_text(value)).strftime("%H:%M")
    except ValueError as e:
        raise AttributeProblemError(f"{value!r} is not a local time of day HH:MM") from e


def _enum(cls: type[StrEnum]) -> Callable[[Any], StrEnum]:
    def parse(value: Any) -> StrEnum:
        try:
            return cls(_text(value).lower())
        except ValueError as e:
            allowed = ", ".join(m.value for m in cls)
            raise AttributeProblemError(f"{value!r} is not one of: {allowed}") from e

    return parse


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in {"1", "true", "yes", "y"}:
        return True
    if text in {"0", "false", "no", "n"}:
        return False
    raise AttributeProblemError(f"{value!r} is not a yes/no value")


def _parsers(tz: ZoneInfo) -> dict[str, Callable[[Any], Any]]:
    when = _when(tz)
    return {
        "name": _text,
        "code": _text,
        "dispatch_contact": _text,
        "permit_no": _text,
        "level": _enum(JurisdictionLevel),
        "illustrative": _flag,
        "floor_m": _metres,
        "ceiling_m": _metres,
        "active_from": when,
        "active_to": when,
        "valid_from": when,
        "valid_to": when,
        "daily_start": _clock,
        "daily_end": _clock,
        "priority": _enum(PriorityClass),
        "kind": _enum(PermitKind),
    }


_DEFAULTS: dict[str, Any] = {"level": JurisdictionLevel.STREET, "illustrative": False}

_ORDERED_PAIRS = (
    ("floor_m", "ceiling_m"),
    ("active_from", "active_to"),
    ("valid_from", "valid_to"),
)


def parse_attributes(
    kind: LayerKind, props: Mapping[str, Any], tz: ZoneInfo
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalise one feature's properties.

    Returns the values (missing optional ones as ``None``) and a list of
    ``(problem, fix)`` pairs; the feature is usable only if that list is empty.
    """
    parsers = _parsers(tz)
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column in LAYER_COLUMNS[kind]:
        source = next(
            (a for a in COLUMN_ALIASES[column] if a in props and not _missing(props[a])), None
        )
        if source is None:
            values[column] = _DEFAULTS.get(column)
            if column in REQUIRED_COLUMNS[kind]:
                aliases = "/".join(COLUMN_ALIASES[column][:3])
                problems.append(
                    (f"property '{column}' is missing or empty", f"add a '{aliases}' property")
                )
            continue
        try:
            values[column] = parsers[column](props[source])
        except AttributeProblemError as e:
            problems.append((f"property '{source}': {e}", f"correct the '{source}' value"))
    for low, high in _ORDERED_PAIRS:
        a, b = values.get(low), values.get(high)
        if a is not None and b is not None and a >= b:
            problems.append(
                (f"'{low}' ({a}) is not before '{high}' ({b})", f"swap or correct '{low}'/'{high}'")
            )
    return values, problems
