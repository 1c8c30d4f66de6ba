"""Evidence fixtures: the tickets' per-module database and small district, real crops on disk."""

from __future__ import annotations

from ..tickets.conftest import district, engine, module_engine

__all__ = ["district", "engine", "module_engine"]
