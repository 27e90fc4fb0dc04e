"""The endpoint's own errors and the one table mapping every igkg error to an HTTP status.

>>> status_of(QueryRefused("SERVICE is not allowed"))
403
>>> status_of(ResultTooLarge("too many rows"))
422
>>> status_of(ResponseTooLarge("too many bytes"))
413
"""

from __future__ import annotations

import logging

from fastapi.responses import PlainTextResponse

from kg.core.errors import (
    ConfigError,
    IgkgError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    UnknownQuery,
)

__all__ = [
    "BodyTooLarge",
    "EndpointBusy",
    "NotAcceptable",
    "RequestAborted",
    "ResponseTooLarge",
    "ResultTooLarge",
    "STATUS",
    "UnsupportedMediaType",
    "error_response",
    "status_of",
]

logger = logging.getLogger(__name__)


class NotAcceptable(IgkgError, ValueError):
    """No result format the endpoint writes matches the request's ``Accept`` or ``format``."""


class UnsupportedMediaType(IgkgError, ValueError):
    """The request body has a content type the SPARQL protocol does not define."""


class BodyTooLarge(IgkgError, ValueError):
    """The request body is larger than ``max_body_bytes``."""


class RequestAborted(IgkgError, ConnectionError):
    """The client closed the connection before its request body was read (logged in one line)."""


class ResultTooLarge(QueryRefused):
    """The result has more rows (or triples) than ``max_rows``; nothing partial is sent."""


class ResponseTooLarge(ResultTooLarge):
    """The serialised result is larger than ``max_bytes``; nothing partial is sent."""


class EndpointBusy(IgkgError, RuntimeError):
    """Every query worker stayed busy for the whole timeout."""


STATUS: dict[type[BaseException], int] = {
    QuerySyntaxError: 400,
    ConfigError: 400,
    ResponseTooLarge: 413,
    ResultTooLarge: 422,
    QueryRefused: 403,
    UnknownQuery: 404,
    NotAcceptable: 406,
    BodyTooLarge: 413,
    RequestAborted: 400,
    UnsupportedMediaType: 415,
    EndpointBusy: 503,
    QueryTimeout: 503,
    StoreError: 500,
}
"""error class -> HTTP status; the most specific class in the exception's MRO wins."""


def status_of(exc: BaseException) -> int:
    """The HTTP status for an exception (500 for anything not in ``STATUS``)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(exc: BaseException) -> PlainTextResponse:
    """A plain-text error response with the right status (the SPARQL protocol's error body)."""
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, (EndpointBusy, QueryTimeout)):
        headers["Retry-After"] = "5"
    if status >= 500 and not isinstance(exc, IgkgError):
        logger.exception("internal error", exc_info=exc)
        text = "internal error (see the server log)"
    else:
        text = str(exc) or type(exc).__name__
    return PlainTextResponse(f"{type(exc).__name__}: {text}\n", status_code=status, headers=headers)
