"""The loader registry: every ``loaders/<format>.py`` module that defines ``LOADER``.

``LOADERS`` is a dict sorted by kind; ``infer_kind`` picks a kind from a file name
(never from file content) and refuses when the name is ambiguous.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from pathlib import Path

from kg.errors import LoadError
from loaders.base import LoadContext, Loader, LoadReport, Triple

__all__ = ["LOADERS", "LoadContext", "LoadReport", "Loader", "Triple", "get_loader", "infer_kind"]


def _discover() -> dict[str, Loader]:
    found: dict[str, Loader] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_") or module_info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        declared = getattr(module, "LOADERS", None) or (
            [module.LOADER] if hasattr(module, "LOADER") else []
        )
        for loader in declared:
            if loader.kind in found:
                raise RuntimeError(f"two loaders claim kind {loader.kind!r}")
            found[loader.kind] = loader
    return dict(sorted(found.items()))


LOADERS: dict[str, Loader] = _discover()
"""kind -> Loader, sorted by kind."""


def get_loader(kind: str) -> Loader:
    """The loader for ``kind``, or a ``LoadError`` listing the kinds there are."""
    try:
        return LOADERS[kind]
    except KeyError:
        raise LoadError(
            kind, f"unknown kind {kind!r}", hint="one of: " + ", ".join(LOADERS)
        ) from None


def infer_kind(path: Path) -> str:
    """The kind implied by a file or folder name, or ``LoadError`` if none or several match."""
    name = path.name.lower()
    matches = [
        kind
        for kind, loader in LOADERS.items()
        if any(fnmatch.fnmatch(name, pattern) for pattern in loader.patterns)
        and (path.is_dir() == loader.accepts_directory or not path.exists() or (loader.accepts_directory and path.is_file()))
    ]
    if len(matches) > 1:
        matches = [kind for kind in matches if not LOADERS[kind].fallback] or matches
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LoadError(path, "cannot tell the kind of this file from its name", hint="give --kind; kinds: " + ", ".join(LOADERS))
    raise LoadError(path, f"the name fits several kinds ({', '.join(matches)})", hint="give --kind")
