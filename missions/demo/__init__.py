"""The demo district: the real Panyu boundary with illustrative jurisdictions, areas and nests."""
