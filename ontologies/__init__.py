"""igkg's ontology, shapes and mapping tables, shipped as package data."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ONTOLOGY_DIR", "path"]

ONTOLOGY_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The path of a bundled ontology or table, e.g. ``path("igkg.ttl")``."""
    found = ONTOLOGY_DIR / name
    if not found.exists():
        raise FileNotFoundError(f"{found} is missing from the igkg installation")
    return found
