"""Deduplication: CCNet line dedup, exact document dedup, MinHash-LSH near-dup, book overlap."""
