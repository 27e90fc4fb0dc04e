"""File-system operations of the data plane, in one place.

Every path the data plane hands out is relative to its root with ``/`` separators, so a
remote root (an fsspec URL) only needs another implementation of these few functions.
Today the root is a local folder (or a ``file://`` URL).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from kg.dataplane.errors import StoreError

__all__ = [
    "atomic_write_json",
    "fsync_dir",
    "local_root",
    "prune_empty_dirs",
    "read_json",
    "remove_tree",
    "slug",
]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def local_root(root: str | os.PathLike[str]) -> Path:
    """The local folder named by ``root`` (a path or ``file://`` URL).

    :raises StoreError: ``root`` is a remote URL (s3://, gs://, ...), not supported yet.
    """
    text = os.fspath(root)
    if "://" in text:
        url = urlparse(text)
        if url.scheme != "file":
            raise StoreError(
                f"{text}: the columnar folder must be a local folder or file:// URL for now "
                "(set it to a folder on this machine)"
            )
        text = unquote(url.path)
    return Path(text).expanduser().absolute()


def slug(text: str) -> str:
    """A file-name-safe, collision-free form of ``text`` (unchanged when already safe).

    >>> slug("v1"), slug("radiomics-csv/features.csv")
    ('v1', 'radiomics-csv_features.csv-a3c01d01')
    """
    safe = _SAFE.sub("_", text).strip("._") or "_"
    if safe == text and len(text) <= 120:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{safe[:100]}-{digest}"


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and a rename (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_json(path: Path) -> Any:
    """The JSON document at ``path``, or None when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def remove_tree(path: Path) -> None:
    """Remove a file or folder; missing is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def prune_empty_dirs(start: Path, stop: Path) -> None:
    """Remove ``start`` and its parents while they are empty, up to (not including) ``stop``."""
    current = start
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
