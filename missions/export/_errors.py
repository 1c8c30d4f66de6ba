"""The one exception the exporters raise."""

from __future__ import annotations

from missions.errors import MissionsError


class ExportError(MissionsError, ValueError):
    """A sortie cannot be written in the asked format; the message says why and how to fix it."""
