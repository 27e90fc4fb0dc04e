"""The endpoint's limits and switches: one frozen object, overridable by ``IGKG_*`` variables.

Safe by default: read-only, a 30 s query timeout, a 10,000-row and 64 MiB result cap, a
1 MB request-body cap, 4 GiB of heap per query worker, no federated ``SERVICE`` and no
CORS. Each limit can be set by an environment variable (``IGKG_TIMEOUT``,
``IGKG_MAX_ROWS``, ``IGKG_MAX_BYTES``, ``IGKG_MAX_BODY_BYTES``, ``IGKG_UPDATE_TOKEN`` or
``IGKG_UPDATE_TOKEN_FILE``, ``IGKG_ALLOW_SERVICE``, ``IGKG_CORS_ORIGINS``,
``IGKG_WORKERS``, ``IGKG_PAGE_WORKERS``, ``IGKG_WORKER_MEMORY``) or by the matching
``igkg serve`` option, which wins over the environment.

>>> config = EndpointConfig.from_env({}, max_rows=50)
>>> (config.max_rows, config.timeout, config.update_token is None, config.max_bytes)
(50, 30.0, True, 67108864)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kg.core.errors import ConfigError
from kg.core.settings import Settings

__all__ = ["MIN_TOKEN_LENGTH", "EndpointConfig", "read_token_file"]

MIN_TOKEN_LENGTH = 16
"""An update token shorter than this is refused: it would be guessable."""

# setting name -> the ``kg.core.settings.Settings`` field read from the environment
_SETTINGS: dict[str, str] = {
    "timeout": "timeout",
    "max_rows": "max_rows",
    "max_body_bytes": "max_body_bytes",
    "update_token": "update_token",
    "allowed_service_prefixes": "allow_service",
    "cors_origins": "cors_origins",
    "workers": "workers",
    "max_bytes": "max_bytes",
    "worker_memory": "worker_memory",
    "page_workers": "page_workers",
}


def read_token_file(path: str | Path) -> str:
    """The update token held in a file (its first line, stripped).

    :raises ConfigError: the file cannot be read or is empty.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the update token file {path}: {exc}") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise ConfigError(f"the update token file {path} is empty; write the token on its first line")
    return token


@dataclass(frozen=True)
class EndpointConfig:
    """Every limit of the SPARQL endpoint, in one place.

    ``timeout`` seconds a query (or update) may run before its worker process is killed;
    ``max_rows`` solutions (or triples) a result may have, else the request fails with
    422 naming the cap; ``max_body_bytes`` of request body, else 413; ``update_token``
    enables SPARQL UPDATE for requests carrying it as ``Authorization: Bearer``;
    ``allowed_service_prefixes`` are the IRI prefixes ``SERVICE``/``LOAD`` may reach;
    ``cors_origins`` the origins allowed by CORS (never with credentials); ``workers``
    the number of query worker processes; ``page_workers`` more of them kept for entity
    pages and named queries (so those stay served while clients run heavy queries; 0 puts
    them in the same pool); ``max_bytes`` of result body, else 413 naming the cap;
    ``worker_memory`` bytes of heap a worker may use (a query needing more stops it, and it
    is replaced; 0 for no bound).
    """

    timeout: float = 30.0
    max_rows: int = 10_000
    max_body_bytes: int = 1_000_000
    update_token: str | None = field(default=None, repr=False)
    allowed_service_prefixes: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    workers: int = 2
    max_bytes: int = 64 * 1024 * 1024
    worker_memory: int = 4 * 1024**3
    page_workers: int = 1

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if self.max_rows < 1:
            raise ConfigError(f"max_rows must be at least 1, got {self.max_rows!r}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes!r}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers!r}")
        if self.page_workers < 0:
            raise ConfigError(f"page_workers must be 0 or more, got {self.page_workers!r}")
        if self.max_bytes < 1024:
            raise ConfigError(f"max_bytes must be at least 1024, got {self.max_bytes!r}")
        if self.worker_memory != 0 and self.worker_memory < 256 * 1024 * 1024:
            raise ConfigError(f"worker_memory must be 0 (unbounded) or at least 268435456 (256 MiB), got {self.worker_memory!r}")
        if self.update_token is not None and len(self.update_token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"the update token must have at least {MIN_TOKEN_LENGTH} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe())')"
            )
        for prefix in self.allowed_service_prefixes:
            if not prefix.startswith(("http://", "https://")) or prefix.count("/") < 3:
                raise ConfigError(
                    f"an allowed SERVICE prefix must be an http(s) IRI with a host and a path, "
                    f"such as https://query.wikidata.org/, got {prefix!r}"
                )
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ConfigError(f"a CORS origin is '*' or http(s)://host[:port], got {origin!r}")

    @property
    def updates_enabled(self) -> bool:
        """Whether SPARQL UPDATE is accepted at all (only with a token)."""
        return self.update_token is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> EndpointConfig:
        """Defaults, then ``IGKG_*`` variables, then ``overrides`` that are not ``None``."""
        settings = Settings.from_env(environ)
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, field_name in _SETTINGS.items():
            value = getattr(settings, field_name)
            if value is not None and value != ():
                values[name] = value
        if settings.update_token_file and "update_token" not in values:
            values["update_token"] = read_token_file(settings.update_token_file)
        for name, value in overrides.items():
            if name not in names:
                raise ConfigError(f"unknown endpoint setting {name!r}")
            if value is None or value == () or value == []:
                continue
            values[name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)
