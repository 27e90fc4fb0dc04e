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
    """The cell delimiter of a table: ``given`` if set (``tab``/``\\t`` mean a tab, ``space``/
    ``whitespace`` a run of blanks); else a comma for ``*.csv``; for any other name (``.tsv``,
    ``.txt``, ``.tab``, unknown; compression suffixes ignored) what the file's first lines show:
    a tab if any has one, else a comma if the first line that is not a ``#`` comment has one,
    else ``" "`` (blank-separated, as PLINK and REGENIE write covariate and phenotype files)
    when it holds blanks, else a tab. A blank delimiter means runs of blanks separate cells.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "covariates.txt").write_text("FID IID V1\\n1 1 0.5\\n")
    >>> _ = (folder / "genes.txt").write_text("# made by hand, for a test\\nsymbol\\tname\\nEGFR\\tegfr\\n")
    >>> delimiter_for(folder / "covariates.txt"), delimiter_for(folder / "genes.txt"), delimiter_for("x.csv", "tab")
    (' ', '\\t', '\\t')
    """
    if given:
        text = str(given).lower()
        if text in ("tab", "\\t"):
            return "\t"
        return " " if text in ("space", "whitespace", " ") else str(given)
    name = Path(path).name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    if name.endswith(".csv"):
        return ","
    lines = _first_lines(Path(path))
    if any("\t" in line for line in lines):
        return "\t"
    data = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    if "," in data:
        return ","
    return " " if len(data.split()) > 1 else "\t"


def _first_lines(path: Path, count: int = 5, limit: int = 1 << 16) -> list[str]:
    """Up to ``count`` lines from the start of a (gzip/bz2) text file; none when it cannot be read."""
    import bz2
    import gzip

    name = path.name.lower()
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            head = handle.read(limit)
    except (OSError, EOFError):
        return []
    return head.decode("utf-8", errors="replace").splitlines()[:count]


def utc_now() -> str:
    """The current UTC time as ``xsd:dateTime`` text to the second, e.g. ``2024-05-01T12:00:00Z``.

    >>> import re
    >>> bool(re.fullmatch(r"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", utc_now()))
    True
    """
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
