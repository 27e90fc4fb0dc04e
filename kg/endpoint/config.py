"""The endpoint's limits and switches: one frozen object, overridable by ``IGKG_*`` variables.

Safe by default: read-only, a 30 s query timeout, a 10,000-row result cap, a 1 MB
request-body cap, no federated ``SERVICE`` and no CORS. Each limit can be set by an
environment variable (``IGKG_TIMEOUT``, ``IGKG_MAX_ROWS``, ``IGKG_MAX_BODY_BYTES``,
``IGKG_UPDATE_TOKEN``, ``IGKG_ALLOW_SERVICE``, ``IGKG_CORS_ORIGINS``, ``IGKG_WORKERS``)
or by the matching ``igkg serve`` option, which wins over the environment.

>>> config = EndpointConfig.from_env({}, max_rows=50)
>>> (config.max_rows, config.timeout, config.update_token is None)
(50, 30.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from kg.core.errors import ConfigError
from kg.core.settings import Settings

__all__ = ["EndpointConfig", "MIN_TOKEN_LENGTH"]

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
}


@dataclass(frozen=True)
class EndpointConfig:
    """Every limit of the SPARQL endpoint, in one place.

    ``timeout`` seconds a query (or update) may run before its worker process is killed;
    ``max_rows`` solutions (or triples) a result may have, else the request fails with
    422 naming the cap; ``max_body_bytes`` of request body, else 413; ``update_token``
    enables SPARQL UPDATE for requests carrying it as ``Authorization: Bearer``;
    ``allowed_service_prefixes`` are the IRI prefixes ``SERVICE``/``LOAD`` may reach;
    ``cors_origins`` the origins allowed by CORS (never with credentials); ``workers``
    the number of query worker processes.
    """

    timeout: float = 30.0
    max_rows: int = 10_000
    max_body_bytes: int = 1_000_000
    update_token: str | None = field(default=None, repr=False)
    allowed_service_prefixes: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    workers: int = 2

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if self.max_rows < 1:
            raise ConfigError(f"max_rows must be at least 1, got {self.max_rows!r}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes!r}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers!r}")
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
        for name, value in overrides.items():
            if name not in names:
                raise ConfigError(f"unknown endpoint setting {name!r}")
            if value is None or value == () or value == []:
                continue
            values[name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)
