"""Small file helpers shared by the store, the loaders and the analyses.

>>> delimiter_for("scores.csv.gz"), delimiter_for("scores.tsv"), delimiter_for("scores.dat")
(',', '\\t', '\\t')
>>> delimiter_for("scores.csv", given="tab")
'\\t'
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["COMPRESSION_SUFFIXES", "delimiter_for", "sha256", "utc_now"]

COMPRESSION_SUFFIXES = (".gz", ".bz2")
"""Suffixes of compressed files, ignored when a file's format is read from its name."""


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, or of a folder's files (relative names and contents' digests, in name order).

    :raises OSError: the path cannot be read.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "abc.txt"
    >>> _ = path.write_text("abc")
    >>> sha256(path)
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode())
            digest.update(_sha256_file(child).encode())
        return digest.hexdigest()
    return _sha256_file(path)


def delimiter_for(path: str | os.PathLike[str], given: str | None = None) -> str:
    """The cell delimiter of a table: ``given`` (``tab`` or ``\\t`` mean a tab) if set, else
    a comma for ``*.csv`` and a tab for every other name (``.tsv``, ``.txt``, ``.tab``, unknown),
    compression suffixes ignored.

    >>> delimiter_for("features.csv.gz"), delimiter_for("genes.txt"), delimiter_for("table.csv", "tab")
    (',', '\\t', '\\t')
    """
    if given:
        return "\t" if str(given).lower() in ("tab", "\\t") else str(given)
    name = Path(path).name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    return "," if name.endswith(".csv") else "\t"


def utc_now() -> str:
    """The current UTC time as ``xsd:dateTime`` text to the second, e.g. ``2024-05-01T12:00:00Z``.

    >>> import re
    >>> bool(re.fullmatch(r"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", utc_now()))
    True
    """
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
