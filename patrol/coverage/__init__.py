"""Coverage from what was actually imaged: frame footprints → cell sightings → stats and maps."""

from patrol.coverage.sightings import CoverageConfig, cells_seen
from patrol.coverage.stats import coverage_state, longest_unseen, summarize

__all__ = ["CoverageConfig", "cells_seen", "coverage_state", "longest_unseen", "summarize"]
