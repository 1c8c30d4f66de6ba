"""HTTP surface of coverage: per-cell state as GeoJSON, summaries per class and jurisdiction."""
