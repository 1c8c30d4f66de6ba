"""The category-code table: a city's major/minor codes and handling time limits, as data.

Codes differ between cities, so they are never constants in code: a deployment points
``load_category_table`` at its own JSON file; the package ships an illustrative example.
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.errors import CategoryTableError

__all__ = ["Category", "CategoryTable", "Severity", "load_category_table"]


class Severity(StrEnum):
    """Which administrative level handles a ticket; escalation moves it up one level."""

    VILLAGE = "village"
    TOWN = "town"
    DISTRICT = "district"

    def escalated(self) -> Severity:
        order = list(Severity)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Category(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1)
    major_code: str = Field(min_length=1)
    minor_code: str = Field(min_length=1)
    name: str
    name_en: str = ""
    handling_time_limit_h: float = Field(gt=0)
    severity: Severity = Severity.VILLAGE

    @property
    def handling_time_limit(self) -> timedelta:
        return timedelta(hours=self.handling_time_limit_h)


class CategoryTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    city: str
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CategoryTable:
        for attr in ("key", "minor_code"):
            values = [getattr(c, attr) for c in self.categories]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate {attr} {dupes}: each category needs its own")
        return self

    def get(self, key: str) -> Category:
        """The category for ``key``; the error lists the keys the table has."""
        for c in self.categories:
            if c.key == key:
                return c
        keys = ", ".join(c.key for c in self.categories)
        raise CategoryTableError(
            f"category {key!r} is not in the table of {self.city!r}; it has: {keys} "
            "(add it to the category-code JSON file)"
        )

    def by_code(self, minor_code: str) -> Category:
        """The category with this minor code (the Open311 ``service_code``)."""
        for c in self.categories:
            if c.minor_code == minor_code:
                return c
        codes = ", ".join(c.minor_code for c in self.categories)
        raise CategoryTableError(f"unknown service code {minor_code!r}; known codes: {codes}")


def load_category_table(path: Path | None = None) -> CategoryTable:
    """Load a city's table from ``path``, or the shipped example table."""
    try:
        if path is None:
            text = resources.files("api.tickets").joinpath("data/categories_example.json")
            raw = text.read_text(encoding="utf-8")
        else:
            raw = path.read_text(encoding="utf-8")
        return CategoryTable.model_validate(json.loads(raw))
    except (OSError, ValueError, ValidationError) as e:
        where = path or "the shipped example table"
        raise CategoryTableError(
            f"cannot load the category table {where}: {e}; it must be JSON like "
            "api/tickets/data/categories_example.json"
        ) from e
