"""The one guard against XML entity expansion (billion laughs) for every XML source.

Python's expat parser (2.4+) stops a document whose DTD entities amplify the input past
a bounded factor ("limit on input amplification factor ... breached"); the MeSH XML loader
parses with it and so is guarded by it. RDF/XML goes to Oxigraph's parser, which expands
entities without a bound, so ``check_entity_expansion`` first streams such a file through
expat with no handlers (nothing is kept, memory stays bounded) when its prolog declares
entities, and ``xml_error`` turns expat's errors into one-line ``LoadError``s for both.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path
from typing import IO
from xml.parsers import expat

from kg.core.errors import LoadError

__all__ = ["check_entity_expansion", "declares_entities", "xml_error"]

_PROLOG_BYTES = 1024 * 1024
"""How much of a file's start is searched for a DTD with entity declarations."""

_CHUNK = 1024 * 1024
_ENTITY = re.compile(rb"<!ENTITY\s", re.IGNORECASE)
_ROOT = re.compile(rb"<(?![?!])")


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # type: ignore[return-value]


def declares_entities(path: Path) -> bool:
    """True when the prolog (before the root element, first MiB) declares a DTD entity."""
    with _open(path) as handle:
        try:
            head = handle.read(_PROLOG_BYTES)
        except (EOFError, OSError, zlib.error):
            return False  # the parser proper reports a broken archive
    doctype = head.find(b"<!DOCTYPE")
    if doctype < 0:
        return False
    root = _ROOT.search(head, doctype + 2)
    prolog = head[doctype: root.start() if root else len(head)]
    return bool(_ENTITY.search(prolog))


def xml_error(path: Path, exc: Exception) -> LoadError:
    """An expat / ElementTree error as a one-line ``LoadError`` with its line; entity expansion named as such."""
    text = str(exc)
    line = getattr(exc, "lineno", None)
    if line is None and getattr(exc, "position", None):
        line = exc.position[0]  # type: ignore[attr-defined]
    if "amplification" in text or "recursive entity" in text.lower():
        return LoadError(
            path, "the XML's DTD entities expand far beyond the file's size (an entity-expansion, 'billion laughs', document); refused",
            line=line, hint="remove the <!ENTITY> declarations that nest other entities",
        )
    return LoadError(path, f"XML syntax error: {text}", line=line, hint="the file is cut or not XML")


def check_entity_expansion(path: Path) -> None:
    """Refuse an XML file whose DTD entities expand without bound, in bounded memory.

    Files without entity declarations are not read beyond their first MiB. Others are
    streamed through expat (no handlers, nothing kept), whose amplification limit stops
    nested expansions early.

    :raises LoadError: the expansion limit is breached (or the XML is malformed).
    """
    if not declares_entities(path):
        return
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    with _open(path) as handle:
        try:
            while chunk := handle.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise xml_error(path, exc) from None
        except (EOFError, OSError, zlib.error) as exc:
            raise LoadError(path, f"file is truncated or not a valid archive ({exc})", hint="download the file again") from None
