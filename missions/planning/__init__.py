"""Flight planning: camera geometry, coverage paths, transit, sorties, schedule, validation."""
