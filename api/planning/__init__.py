"""HTTP surface of planning: planned sorties and "send the nearest drone"."""
