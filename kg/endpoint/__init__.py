"""igkg's SPARQL 1.1 endpoint: a FastAPI router, an app factory, one config object.

>>> from kg.endpoint import EndpointConfig
>>> EndpointConfig().updates_enabled
False
"""

from __future__ import annotations

from kg.endpoint.app import create_app
from kg.endpoint.config import EndpointConfig
from kg.endpoint.router import sparql_router
from kg.endpoint.served_store import SparqlService

__all__ = ["EndpointConfig", "SparqlService", "create_app", "sparql_router"]
