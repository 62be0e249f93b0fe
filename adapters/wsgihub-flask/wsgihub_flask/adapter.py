"""The adapter for Flask applications.

The trap it avoids: while app A handles a request, ``B.url_for()`` (and
``flask.url_for`` inside ``B.app_context()``) silently builds with **A's**
URL map, because Flask keeps the bound ``MapAdapter`` on the innermost
request context.  So the adapter never goes through Flask's context: it
binds B's own ``url_map`` to B's mount (``url_map.bind(host,
script_name=prefix, url_scheme=...)``), runs B's URL defaults
(``inject_url_defaults``) and B's build error handlers
(``handle_url_build_error``) -- all public Flask API.  Flask's private
context variables are never touched.

Building shares :class:`wsgihub_werkzeug.urls.MapURLs` with the Werkzeug
adapter; the relative-URL adapters are cached per ``(script_name, scheme)``
and absolute URLs are bound fresh, so the ``Host`` header never becomes a
cache key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import BuildError
from wsgihub_werkzeug.native import HubURL
from wsgihub_werkzeug.urls import MapURLs

from wsgihub.adapter import Adapter, AppRoute, Cookie

from . import handoff, hosts, identity, native

if TYPE_CHECKING:
    from wsgihub import Hub, Peg
    from wsgihub.types import Environ, WSGIApplication

__all__ = ["FlaskAdapter"]


class FlaskAdapter(Adapter[Flask]):
    """Routes, URLs, grafts, request context, cookies and checks for one Flask app."""

    framework: ClassVar[str] = "flask"

    def __init__(self, app: Flask, wsgi: WSGIApplication) -> None:
        super().__init__(app, wsgi)
        self.urls = MapURLs(app.url_map, framework=self.framework)
        # Read on every build: both are live objects of the app.
        self._bound = self.urls.bound
        self._url_defaults = app.url_default_functions
        self._hub_url: HubURL | None = None
        self._hub_user: object | None = None
        self._handed = False

    # -- mounting -------------------------------------------------------------
    def mounted(self, hub: Hub, peg: Peg) -> None:
        """Add the ``hub_url`` and ``hub_user`` Jinja globals; check Host with the hub's trust.

        Reading ``app.jinja_env`` creates Flask's Jinja environment, so set
        ``jinja_options`` and ``TEMPLATES_AUTO_RELOAD`` before mounting.
        """
        self._hub_url = native.expose(self.app, hub)
        self._hub_user = identity.expose(self.app)  # {{ hub_user.username }} (docs/login.md)
        # Flask's own redirects use the Host header: the hub checks it before Flask runs (hosts.py).
        hosts.guard(self.app, hub, peg)
        # a graft takes the hub's exact match instead of matching again (handoff.py)
        self._handed = peg.over is not None and handoff.hand_off(self.app)

    def unmounted(self, hub: Hub, peg: Peg) -> None:
        """Remove the ``hub_url`` and ``hub_user`` Jinja globals this mount added."""
        native.conceal(self.app, self._hub_url)
        self._hub_url = None
        identity.conceal(self.app, self._hub_user)
        self._hub_user = None
        if self._handed:
            handoff.take_back(self.app)
            self._handed = False

    # -- routes and URLs ----------------------------------------------------------
    def routes(self) -> Iterator[AppRoute]:
        """Every rule of ``app.url_map``, ``static`` included, with Flask's own
        method sets (``HEAD`` and ``OPTIONS`` included where Flask adds them);
        the ``static`` routes of the app and its blueprints are marked ``static``."""
        for route in self.urls.routes():
            if route.endpoint == "static" or route.endpoint.endswith(".static"):
                route = replace(route, static=True)
            yield route

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
        """Build like ``app.url_for`` would inside the app's own request.

        URL defaults apply, extra values become query arguments,
        ``method`` picks among the endpoint's rules, and the app's build
        error handlers get their chance before an error is raised.
        """
        if self._url_defaults:
            values = dict(values)
            self.app.inject_url_defaults(endpoint, values)
        urls = self.urls
        try:
            if host is None:
                bound = self._bound.get((script_name, scheme)) or urls.bind(script_name, scheme)
                return bound.build(endpoint, values, method)
            return urls.url_map.bind(host, script_name, url_scheme=scheme).build(endpoint, values, method, True)
        except BuildError as error:
            return self._build_failed(error, endpoint, values, scheme, host, method)
        except ValueError as error:
            raise urls.value_error(endpoint, error) from error

    def _build_failed(
        self,
        error: BuildError,
        endpoint: str,
        values: Mapping[str, Any],
        scheme: str,
        host: str | None,
        method: str | None,
    ) -> str:
        """Ask ``app.handle_url_build_error`` (as Flask does), else raise ours."""
        flask_values = dict(values)
        external = host is not None
        flask_values.update(_anchor=None, _method=method, _scheme=scheme if external else None, _external=external)
        try:
            return self.app.handle_url_build_error(error, endpoint, flask_values)
        except BuildError:
            pass
        raise self.urls.build_error(endpoint, values, method) from error

    def match(self, path_info: str, method: str) -> Any:
        """Whether a rule takes the path and method; a slash redirect counts.

        A yes known to be Werkzeug's own match is answered with that match
        (a truthy :class:`~wsgihub_werkzeug.fastmatch.Handed`), which the
        graft's dispatch hands to the app (:mod:`.handoff`).
        """
        return self.urls.answer(path_info, method)

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """The endpoint of the rule taking the path and method (scoped grafts; a redirect is ``True``)."""
        return self.urls.match_endpoint(path_info, method)

    def endpoint(self, environ: Environ) -> str | None:
        """The endpoint Flask matched (for the access log and tracing).

        While Flask's request context is still up (the access log asks from
        ``start_response``), its request object is in the environ
        (``werkzeug.request``) with the rule it matched: nothing is matched
        again.  Otherwise (the context is gone, or the request is another
        app's) the path is matched against the URL map again.
        """
        rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
        if rule is not None and rule.map is self.app.url_map:
            endpoint: str = rule.endpoint
            return endpoint
        return self.urls.endpoint(environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD", "GET"))

    # -- running code inside the app ----------------------------------------------
    @contextmanager
    def request_context(self, environ: Environ) -> Iterator[Request]:
        """``app.request_context(environ)``: ``flask.request``, ``session``, ``g`` work.

        The context is pushed on entry and popped on exit however the block
        ends, so ``teardown_request`` / ``teardown_appcontext`` run.
        """
        with self.app.request_context(environ) as ctx:
            hosts.for_code(ctx)  # an app's own TRUSTED_HOSTS is for clients, not for code (hosts.py)
            yield ctx.request

    # -- checks ---------------------------------------------------------------
    def sessions_enabled(self) -> bool:
        """Whether the app can set a session cookie at all.

        Flask's default interface sets none without a ``SECRET_KEY``; any
        other interface (Flask-Session, ...) is assumed to set one.
        """
        app = self.app
        return app.secret_key is not None or type(app.session_interface) is not SecureCookieSessionInterface

    def cookies(self) -> Iterator[Cookie]:
        """The session cookie as the session interface sets it.

        Its path is ``SESSION_COOKIE_PATH`` or ``APPLICATION_ROOT`` -- not the
        mount prefix: a Flask app mounted at ``/new`` still sends ``Path=/``.
        """
        if not self.sessions_enabled():
            return
        app = self.app
        interface = app.session_interface
        yield Cookie(
            interface.get_cookie_name(app),
            interface.get_cookie_path(app) or "/",
            interface.get_cookie_domain(app) or None,
            "session",
        )

    def problems(self, hub: Hub, peg: Peg) -> Iterator[str]:
        """Surprises a Flask app brings to its mount.

        - the session cookie's path does not cover the mount, so browsers
          never send it back and sessions are lost on every request;
        - the url_map uses ``host_matching``: relative URLs of rules on
          another host come out absolute, and grafts cannot match by path;

        (What a grafted app's routes, ``static`` included, take from the app
        beneath is the hub's graft analysis: ``wsgihub check`` W010/W011.)
        """
        if self.sessions_enabled():
            path = self.app.session_interface.get_cookie_path(self.app) or "/"
            root = hub.public_origin.root if hub.public_origin is not None else ""
            where = root + peg.prefix
            base = path.rstrip("/")
            if base and where != base and not where.startswith(base + "/"):
                yield (
                    f"mount {peg.name!r} (flask): the session cookie has Path={path} "
                    "(SESSION_COOKIE_PATH or APPLICATION_ROOT), which does not cover the mount at "
                    f"{where or '/'!r}: browsers will not send it back and sessions will be lost; "
                    f"set SESSION_COOKIE_PATH to {where or '/'!r} or a parent of it"
                )
        if self.app.url_map.host_matching:
            yield (
                f"mount {peg.name!r} (flask): url_map uses host_matching; wsgihub builds rules of "
                "other hosts as absolute URLs and a graft of this app cannot be matched by path"
            )
