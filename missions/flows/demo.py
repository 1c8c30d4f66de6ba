"""Set up the demo district in a database: layers, grid and nests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from missions.demo.district import DemoDistrict, make_demo_district, place_nests
from missions.fleet import Nest
from missions.flows.grid import GridBuild, build_and_store
from missions.geo.layers import LayerKind
from missions.storage import save_layer, save_nests, upgrade

__all__ = ["DemoSetup", "init_demo"]


@dataclass(frozen=True)
class DemoSetup:
    district: DemoDistrict
    built: GridBuild
    nests: list[Nest]


def init_demo(engine: Engine, *, cell_size_m: float = 100.0, ceiling_m: float = 120.0) -> DemoSetup:
    """Migrate, then replace geography, grid and nests with the demo district's (idempotent)."""
    upgrade(engine)
    district = make_demo_district()
    source = "demo (Panyu boundary; other layers illustrative)"
    save_layer(engine, LayerKind.BOUNDARY, district.boundary, source=source)
    save_layer(engine, LayerKind.JURISDICTIONS, district.jurisdictions, source=source)
    save_layer(engine, LayerKind.PRIORITY, district.priority, source=source)
    save_layer(engine, LayerKind.NOFLY, district.nofly, source=source)
    save_layer(engine, LayerKind.PERMITS, district.permits, source=source)
    built = build_and_store(engine, cell_size_m=cell_size_m, ceiling_m=ceiling_m)
    nests = place_nests(built.cells, district.nofly)
    save_nests(engine, nests)
    return DemoSetup(district, built, nests)
