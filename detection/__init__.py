"""Violation detection: image sources, tiled inference, georeferencing, synthetic data, training."""
