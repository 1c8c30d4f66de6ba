"""Geography: coordinate systems, GCJ-02, and import of the district's layers."""
