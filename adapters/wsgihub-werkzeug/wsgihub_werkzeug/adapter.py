"""The adapter for plain Werkzeug applications (anything with a ``url_map``).

A Werkzeug app is an object whose ``url_map`` is a
``werkzeug.routing.Map``; it binds the map to each request itself.  The
hub builds its URLs with the same map (see :mod:`wsgihub_werkzeug.urls`),
matches grafted paths with it, and runs code inside it with a
:class:`~wsgihub_werkzeug.native.HubRequest`.

An app mounted with ``framework="werkzeug"`` but without a ``url_map`` still
gets this adapter: it has no routes and cannot build URLs, but
``hub.request_context()`` works.

Werkzeug's own redirects (``RequestRedirect``: ``/items`` -> ``Location:
http://<Host>/items/``) and ``build(..., force_external=True)`` use the
request's Host, and a plain Werkzeug app checks none.  So when the hub
restricts hosts (``trusted_hosts``, ``public_url``), the mount is put
behind :class:`wsgihub.urls.HostCheck`: any Host the hub does not trust is
answered 400 before the app runs, as Flask and Pyramid mounts are.  An app
whose ``request_class`` sets ``trusted_hosts`` checks Host itself and is
left to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.routing import BuildError, Map
from werkzeug.wrappers import Request

from wsgihub.adapter import Adapter, AppRoute
from wsgihub.errors import UnknownEndpointError
from wsgihub.urls import HostCheck

from .native import HubRequest, HubURL, conceal, expose, jinja_globals, make_hub_url
from .urls import MapURLs

if TYPE_CHECKING:
    from wsgihub import Hub, Peg
    from wsgihub.types import Environ, WSGIApplication

__all__ = ["WerkzeugAdapter"]


class WerkzeugAdapter(Adapter[object]):
    """Routes, URLs, grafts and request context for an app with a ``url_map``.

    ``app`` is the object holding ``url_map`` (the mounted callable itself
    when the app was forced to this adapter and has none: ``url_map`` is
    then ``None``); ``wsgi`` the mounted callable.
    """

    framework: ClassVar[str] = "werkzeug"

    def __init__(self, app: object, wsgi: WSGIApplication, url_map: Map | None) -> None:
        super().__init__(app, wsgi)
        self.urls = MapURLs(url_map, framework=self.framework) if url_map is not None else None
        self._bound = self.urls.bound if self.urls is not None else {}
        self._request_class = _request_class(app)
        self._globals: MutableMapping[str, Any] | None = None
        self._hub_url: HubURL | None = None

    # -- mounting -------------------------------------------------------------
    def mounted(self, hub: Hub, peg: Peg) -> None:
        """Check the Host before the app (see the module docs); give ``app.jinja_env`` (if any)
        the ``hub_url`` template global."""
        if self._request_class.trusted_hosts is None:  # else the app checks Host itself
            peg.app = HostCheck.guard(peg.app, hub.hosts)
        self._globals = jinja_globals(self.app)
        self._hub_url = make_hub_url(hub)
        expose(self._globals, self._hub_url)

    def unmounted(self, hub: Hub, peg: Peg) -> None:
        """Take ``hub_url`` back out of the app's Jinja globals."""
        conceal(self._globals, self._hub_url)
        self._globals = self._hub_url = None

    # -- routes and URLs ----------------------------------------------------------
    def routes(self) -> Iterator[AppRoute]:
        """Every rule of ``url_map``; view-function endpoints by their ``__name__``."""
        return self.urls.routes() if self.urls is not None else iter(())

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        *,
        script_name: str,
        scheme: str,
        host: str | None,
        method: str | None = None,
    ) -> str:
        """``MapAdapter.build``: extra values become query arguments, ``method`` picks the rule."""
        urls = self.urls
        if urls is None:
            raise UnknownEndpointError(f"the {self.framework} app has no url_map, so no endpoint {endpoint!r}")
        if host is None:  # the hot path, inlined; errors are explained by urls.build below
            try:
                bound = self._bound.get((script_name, scheme)) or urls.bind(script_name, scheme)
                return bound.build(endpoint, values, method)
            except (BuildError, ValueError):
                pass
        return urls.build(endpoint, values, script_name, scheme, host, method)

    def match(self, path_info: str, method: str) -> bool | None:
        """Whether ``url_map`` has a rule for the path and method (redirects count)."""
        return self.urls.match(path_info, method) if self.urls is not None else None

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """The endpoint of the rule taking the path and method (scoped grafts; a redirect is ``True``)."""
        return self.urls.match_endpoint(path_info, method) if self.urls is not None else None

    def endpoint(self, environ: Environ) -> str | None:
        """The endpoint of the rule that takes the request (matched again; for the access log)."""
        if self.urls is None:
            return None
        return self.urls.endpoint(environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD", "GET"))

    # -- running code inside the app ----------------------------------------------
    @contextmanager
    def request_context(self, environ: Environ) -> Iterator[Request]:
        """Enters as a request object (the app's ``request_class`` if it has one)."""
        request = self._request_class(environ)
        try:
            yield request
        finally:
            request.close()

    def cookies(self) -> Iterable[Any]:
        """A plain Werkzeug app sets no cookies wsgihub can know of."""
        return ()


def _request_class(app: object) -> type[Request]:
    """The app's own ``request_class`` when it is a Werkzeug request class, else :class:`HubRequest`."""
    cls = getattr(app, "request_class", None)
    if isinstance(cls, type) and issubclass(cls, Request):
        return cls
    return HubRequest
