"""The error classes of igkg; the endpoint maps them to HTTP status codes in one place."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

__all__ = [
    "AssociationError",
    "ConfigError",
    "IgkgError",
    "LoadError",
    "QueryRefused",
    "QuerySyntaxError",
    "QueryTimeout",
    "StoreError",
    "UnknownQuery",
]


class IgkgError(Exception):
    """Base of every error igkg raises on purpose: ``except IgkgError`` catches them all.

    >>> issubclass(LoadError, IgkgError) and issubclass(StoreError, IgkgError)
    True
    """


class ConfigError(IgkgError, ValueError):
    """A setting, option or environment variable is wrong.

    >>> from kg.core.settings import Settings
    >>> Settings.from_env({"IGKG_STORE_CHUNK": "many"})
    Traceback (most recent call last):
    ...
    kg.core.errors.ConfigError: IGKG_STORE_CHUNK='many' is not a valid value for store_chunk (a whole number)
    """


class StoreError(IgkgError, OSError):
    """The store cannot be opened or written (locked, corrupt, unreachable).

    >>> from kg import KnowledgeGraph
    >>> KnowledgeGraph(None, read_only=True)
    Traceback (most recent call last):
    ...
    kg.core.errors.StoreError: an in-memory store cannot be opened read-only
    """


class LoadError(IgkgError, ValueError):
    """A source file cannot be loaded; names the file, the line or record, and what to do.

    >>> str(LoadError("bad.tsv", "missing column 'symbol'", line=1, hint="use the HGNC complete set"))
    "bad.tsv, line 1: missing column 'symbol' (use the HGNC complete set)"
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        self.record = record
        self.field = field
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f", line {self.line}"
        if self.record is not None:
            where += f", record {self.record}"
        if self.field is not None:
            where += f", field {self.field!r}"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable with its keyword fields (an error raised in a dask worker or a child process).

        >>> import pickle
        >>> error = pickle.loads(pickle.dumps(LoadError("x.csv", "bad value", line=3, hint="fix it")))
        >>> str(error), error.line
        ('x.csv, line 3: bad value (fix it)', 3)
        """
        rebuild = functools.partial(type(self), line=self.line, record=self.record, field=self.field, hint=self.hint)
        return (rebuild, (self.path, self.message))


class QuerySyntaxError(IgkgError, ValueError):
    """A SPARQL query or update does not parse; carries the parser's message and position.

    >>> from kg import KnowledgeGraph
    >>> KnowledgeGraph(None).query("SELECT WHERE")
    Traceback (most recent call last):
    ...
    kg.core.errors.QuerySyntaxError: ...
    """


class QueryRefused(IgkgError, PermissionError):
    """A query or update is not allowed here (read-only store, SERVICE, file: IRIs ...).

    >>> isinstance(QueryRefused("SERVICE is not allowed"), PermissionError)
    True
    """


class QueryTimeout(IgkgError, TimeoutError):
    """A query ran past its time limit and was stopped.

    >>> isinstance(QueryTimeout("stopped after 30 s"), TimeoutError)
    True
    """


class UnknownQuery(IgkgError, KeyError):
    """No named query has that name, or a parameter is unknown or of the wrong type.

    >>> str(UnknownQuery("no named query 'x'"))   # a sentence, not KeyError's quoted repr
    "no named query 'x'"
    """

    def __str__(self) -> str:
        # KeyError quotes its message; this one is a sentence for people.
        return str(self.args[0]) if self.args else ""


class AssociationError(IgkgError, ValueError):
    """The inputs of an association analysis are unusable (names the variable and what to do).

    >>> isinstance(AssociationError("no expression measurements in the store"), ValueError)
    True
    """
