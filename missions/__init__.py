"""Mission planning for drone nests: geography, the unit grid, storage and (later) flight plans.

The package never talks to a vehicle; it turns geography into plans that ``patrol`` flies.
"""

from missions.errors import (
    CrsError,
    GeographyInputError,
    GridError,
    MissionsError,
    StorageError,
)

__all__ = [
    "CrsError",
    "GeographyInputError",
    "GridError",
    "MissionsError",
    "StorageError",
]
