"""Shared infrastructure with no domain knowledge and no tables of its own."""
