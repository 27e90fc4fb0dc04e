"""Every ``IGKG_*`` environment variable, read in one place into one frozen ``Settings``.

``Settings.from_env()`` reads the environment (or a given mapping) when it is called: the
store, the CLI, the remote backend and the endpoint each call it once when they open, so a
variable changed later is seen by the next store or server opened, never half-way through.

=========================  ===========================================================
variable                   meaning (default)
=========================  ===========================================================
``IGKG_STORE``             store folder or ``sparql+http(s)://`` URL (``./igkg-data``)
``IGKG_BASE``              base of minted instance IRIs (``https://w3id.org/igkg/id/``)
``IGKG_SHARED_DATA``       folder of shared reference data (``../shared/data``)
``IGKG_STORE_UPDATE_URL``  remote store: update URL (the query URL)
``IGKG_STORE_DATASET``     remote store: ``catalog`` or ``server`` (``catalog``)
``IGKG_STORE_CHUNK``       remote store: triples per INSERT DATA request (1000)
``IGKG_STORE_RETRIES``     remote store: retries of a transient failure (4)
``IGKG_STORE_BACKOFF``     remote store: first back-off in seconds (0.5)
``IGKG_STORE_TIMEOUT``     remote store: seconds one request may take (300)
``IGKG_STORE_TOKEN``       remote store: bearer token
``IGKG_STORE_USER``        remote store: user (Digest or Basic auth)
``IGKG_STORE_PASSWORD``    remote store: password
``IGKG_TIMEOUT``           endpoint: seconds a query may run (30)
``IGKG_MAX_ROWS``          endpoint: most result rows (10000)
``IGKG_MAX_BODY_BYTES``    endpoint: largest request body (1000000)
``IGKG_UPDATE_TOKEN``      endpoint: bearer token enabling SPARQL UPDATE (none)
``IGKG_UPDATE_TOKEN_FILE`` endpoint: file holding that token (none)
``IGKG_MAX_BYTES``         endpoint: largest result body in bytes (67108864, 64 MiB)
``IGKG_WORKER_MEMORY``     endpoint: heap bytes a query worker may use, 0 unbounded (4294967296)
``IGKG_PAGE_WORKERS``      endpoint: worker processes kept for entity pages and named queries (1)
``IGKG_ALLOW_SERVICE``     endpoint: IRI prefixes SERVICE/LOAD may reach (none)
``IGKG_CORS_ORIGINS``      endpoint: origins allowed by CORS (none)
``IGKG_WORKERS``           endpoint: query worker processes (2)
``IGKG_COLUMNAR``          folder of the columnar data plane of a remote (or in-memory) store (none)
``IGKG_DASK_SCHEDULER``    ``igkg associate``: dask.distributed scheduler address (none: local)
=========================  ===========================================================

>>> s = Settings.from_env({"IGKG_STORE_CHUNK": "700", "IGKG_ALLOW_SERVICE": "https://a.example/ https://b.example/"})
>>> s.store_chunk, s.allow_service, s.timeout is None
(700, ('https://a.example/', 'https://b.example/'), True)
>>> Settings.from_env({"IGKG_MAX_ROWS": "many"})
Traceback (most recent call last):
...
kg.core.errors.ConfigError: IGKG_MAX_ROWS='many' is not a valid value for max_rows (a whole number)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kg.core.errors import ConfigError
from kg.core.iris import DEFAULT_INSTANCE_BASE

__all__ = ["DEFAULT_STORE", "ENV_PREFIX", "Settings"]

ENV_PREFIX = "IGKG_"
"""Every setting is ``IGKG_<FIELD NAME IN UPPER CASE>`` in the environment."""

DEFAULT_STORE = "./igkg-data"
"""Where the on-disk store lives when neither ``--store`` nor ``IGKG_STORE`` says."""

_DEFAULT_SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass(frozen=True)
class Settings:
    """The values of every ``IGKG_*`` variable (see the module docstring); ``None`` = not set.

    >>> Settings().store_chunk
    1000
    """

    store: str = DEFAULT_STORE
    base: str = DEFAULT_INSTANCE_BASE
    shared_data: str = str(_DEFAULT_SHARED)
    store_update_url: str | None = None
    store_dataset: str = "catalog"
    store_chunk: int = 1_000
    store_retries: int = 4
    store_backoff: float = 0.5
    store_timeout: float = 300.0
    store_token: str | None = field(default=None, repr=False)
    store_user: str | None = None
    store_password: str = field(default="", repr=False)
    timeout: float | None = None
    max_rows: int | None = None
    max_body_bytes: int | None = None
    update_token: str | None = field(default=None, repr=False)
    allow_service: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    workers: int | None = None
    update_token_file: str | None = None
    max_bytes: int | None = None
    worker_memory: int | None = None
    page_workers: int | None = None
    columnar: str | None = None
    dask_scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.store_dataset not in ("catalog", "server"):
            raise ConfigError(f"IGKG_STORE_DATASET must be 'catalog' or 'server', got {self.store_dataset!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``environ`` (default ``os.environ``); an empty variable counts as unset.

        :raises ConfigError: a variable's value is not of its type (the message names it).

        >>> settings = Settings.from_env({"IGKG_STORE": "/data/igkg", "IGKG_STORE_CHUNK": "50", "IGKG_BASE": ""})
        >>> settings.store, settings.store_chunk, settings.base
        ('/data/igkg', 50, 'https://w3id.org/igkg/id/')
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            variable = ENV_PREFIX + spec.name.upper()
            raw = env.get(variable)
            if raw is None or raw.strip() == "":
                continue
            values[spec.name] = _convert(spec.name, str(spec.type), raw, variable)
        if "store_dataset" in values:
            values["store_dataset"] = values["store_dataset"].strip().lower()
        return cls(**values)


def _convert(name: str, annotation: str, raw: str, variable: str) -> Any:
    if annotation.startswith("tuple"):
        return tuple(part for part in raw.replace(",", " ").split() if part)
    if annotation.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a valid value for {name} (a whole number)") from None
    if annotation.startswith("float"):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a valid value for {name} (a number)") from None
    return raw
