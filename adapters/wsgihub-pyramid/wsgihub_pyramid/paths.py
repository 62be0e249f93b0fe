"""A path that is not UTF-8 is a ``400 Bad Request`` for a Pyramid mount, not a 500.

Pyramid decodes ``PATH_INFO`` as UTF-8 to match routes and to traverse;
``GET /api/posts/%ff`` makes it raise ``URLDecodeError``, which no stock
exception view handles, so the server answers 500 (a stock Pyramid app does
the same; Django and Flask answer 404).  The client sent the bad bytes, so
mounting a Pyramid app registers a ``NewRequest`` subscriber in its
registry that answers such a request ``HTTPBadRequest`` before routing,
traversal and views (an exception view of the app for 400 still renders
it); unmounting removes it.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.interfaces import INewRequest

__all__ = ["guard", "unguard"]

_BODY = "Bad Request: the path is not UTF-8\n"


def _check_path(event: Any) -> None:
    """Refuse a request whose path Pyramid could not decode (before routing and views)."""
    path = event.request.environ.get("PATH_INFO", "")
    try:
        path.encode("latin-1").decode("utf-8")
    except UnicodeError:  # PEP 3333: the raw bytes as latin-1; not UTF-8 underneath
        raise HTTPBadRequest(body=_BODY, content_type="text/plain", charset="utf-8") from None


def guard(registry: Any) -> Any:
    """Register the path check in ``registry``; the subscriber (for :func:`unguard`)."""

    def check_path(event: Any) -> None:
        _check_path(event)

    registry.registerHandler(check_path, (INewRequest,))
    return check_path


def unguard(registry: Any, check_path: Any) -> None:
    """Remove a subscriber :func:`guard` registered."""
    if check_path is not None:
        registry.unregisterHandler(check_path, (INewRequest,))
