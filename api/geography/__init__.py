"""HTTP surface of the geography, the grid and the nests (read side)."""
