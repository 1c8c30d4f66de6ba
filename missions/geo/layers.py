"""The geography layers a district is described by, and their normalised attributes.

Each layer is read from a file into a GeoDataFrame in WGS-84 whose columns are the ones listed
in :data:`LAYER_COLUMNS` (plus ``geometry``), whatever the source file called them.
"""

from __future__ import annotations

from enum import StrEnum


class LayerKind(StrEnum):
    """The geography layers NestPatrol imports."""

    BOUNDARY = "boundary"
    JURISDICTIONS = "jurisdictions"
    NOFLY = "nofly"
    PRIORITY = "priority"
    PERMITS = "permits"


class PriorityClass(StrEnum):
    """How often a cell must be imaged; ordered from most to least demanding."""

    CORE = "core"
    STANDARD = "standard"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is more demanding (wins when priority areas overlap)."""
        return {PriorityClass.CORE: 3, PriorityClass.STANDARD: 2, PriorityClass.LOW: 1}[self]


class PermitKind(StrEnum):
    """What a permit makes legal inside its polygon."""

    CONSTRUCTION = "construction"
    NIGHT_WORK = "night_work"
    DISPOSAL_SITE = "disposal_site"


class JurisdictionLevel(StrEnum):
    """Administrative level of a jurisdiction polygon."""

    DISTRICT = "district"
    TOWN = "town"
    STREET = "street"
    VILLAGE = "village"
    COMMUNITY = "community"


#: default revisit target per class, seconds (core 2 h, standard 24 h, low 7 d)
DEFAULT_REVISIT_S: dict[PriorityClass, int] = {
    PriorityClass.CORE: 2 * 3600,
    PriorityClass.STANDARD: 24 * 3600,
    PriorityClass.LOW: 7 * 24 * 3600,
}

#: normalised attribute columns per layer (besides ``geometry``)
LAYER_COLUMNS: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.BOUNDARY: ("name",),
    LayerKind.JURISDICTIONS: ("code", "name", "level", "dispatch_contact", "illustrative"),
    LayerKind.NOFLY: (
        "name",
        "floor_m",
        "ceiling_m",
        "active_from",
        "active_to",
        "daily_start",
        "daily_end",
    ),
    LayerKind.PRIORITY: ("name", "priority"),
    LayerKind.PERMITS: ("permit_no", "kind", "valid_from", "valid_to"),
}

#: accepted source property names for each normalised column (first match wins)
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "NAME", "Name", "name_en", "title"),
    "code": ("code", "CODE", "adcode", "id", "gb_code"),
    "level": ("level", "LEVEL", "admin_level"),
    "dispatch_contact": ("dispatch_contact", "contact", "dispatch"),
    "illustrative": ("illustrative",),
    "floor_m": ("floor_m", "floor", "lower_m"),
    "ceiling_m": ("ceiling_m", "ceiling", "upper_m"),
    "active_from": ("active_from", "from", "start"),
    "active_to": ("active_to", "to", "end"),
    "daily_start": ("daily_start",),
    "daily_end": ("daily_end",),
    "priority": ("priority", "class", "priority_class"),
    "permit_no": ("permit_no", "permit", "number", "id"),
    "kind": ("kind", "type", "permit_kind"),
    "valid_from": ("valid_from", "from", "start"),
    "valid_to": ("valid_to", "to", "end"),
}

#: columns a feature cannot do without
REQUIRED_COLUMNS: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.BOUNDARY: (),
    LayerKind.JURISDICTIONS: ("code", "name"),
    LayerKind.NOFLY: (),
    LayerKind.PRIORITY: ("priority",),
    LayerKind.PERMITS: ("kind",),
}
