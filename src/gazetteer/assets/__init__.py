"""Catalog assets: the records a crawl produces, how they are stored, found and served."""
