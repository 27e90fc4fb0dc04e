"""Loader output spooled to a temporary N-Triples file before any store write, and chunking.

An on-disk store spools inside its own folder (``<store>/spool``), so a killed load leaves
nothing in ``/tmp`` and the store's recovery clears what it left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.core.terms import nt

__all__ = ["TripleSpool", "iter_chunks"]


class TripleSpool:
    """A temporary N-Triples file that triples are written to (and digested) before a bulk load.

    >>> from rdflib import URIRef
    >>> class Report: triples = 0
    >>> with TripleSpool() as spool:
    ...     spool.write_all([(URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:c"))], Report)
    ...     spool.path.read_text()
    '<urn:a> <urn:b> <urn:c> .\\n'
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        """A new spool file in ``directory`` (created if missing), or the system's temporary folder."""
        if directory is not None:
            os.makedirs(directory, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="igkg-", suffix=".nt", dir=directory)
        os.close(handle)
        self.path = Path(name)
        self._digest = hashlib.sha256()

    def __enter__(self) -> TripleSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    def write_all(self, triples: Iterable[Any], report: Any) -> None:
        """Write every triple (rdflib terms) and set ``report.triples`` to their number.

        >>> from rdflib import URIRef
        >>> from loaders import LoadReport
        >>> report = LoadReport(source="demo", kind="rdf")
        >>> with TripleSpool() as spool:
        ...     spool.write_all([(URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:c"))] * 2, report)
        >>> report.triples
        2
        """
        count = 0
        with open(self.path, "w", encoding="utf-8", buffering=1 << 20) as out:
            lines: list[str] = []
            for s, p, o in triples:
                lines.append(f"{nt(s)} {nt(p)} {nt(o)} .\n")
                if len(lines) >= 10_000:
                    chunk = "".join(lines)
                    out.write(chunk)
                    self._digest.update(chunk.encode())
                    count += len(lines)
                    lines.clear()
            chunk = "".join(lines)
            out.write(chunk)
            self._digest.update(chunk.encode())
            count += len(lines)
        report.triples = count

    def digest(self) -> str:
        """SHA-256 of everything written.

        >>> import hashlib
        >>> from rdflib import URIRef
        >>> from loaders import LoadReport
        >>> with TripleSpool() as spool:
        ...     spool.write_all([(URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:c"))], LoadReport(source="demo", kind="rdf"))
        ...     spool.digest() == hashlib.sha256(b"<urn:a> <urn:b> <urn:c> .\\n").hexdigest()
        True
        """
        return self._digest.hexdigest()


def iter_chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most ``size`` items.

    >>> list(iter_chunks(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
