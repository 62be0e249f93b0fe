"""The hub's Host check in front of a Flask mount.

Flask builds absolute URLs from the request's ``Host`` header: its slash
redirects (``RequestRedirect``: ``/reports`` -> ``Location:
http://<Host>/reports/``) and ``url_for(..., _external=True)`` inside a
view.  The hub never sees those URLs, so an attacker's ``Host: evil.com``
would come back in a ``Location`` header (cache poisoning, password-reset
links).

So when the hub restricts hosts (``trusted_hosts``, ``public_url``), the
mount is put behind :class:`wsgihub.urls.HostCheck`: the hub's own check
(:meth:`wsgihub.urls.HostTrust.allows`: exact names, ``.example.org`` for
a domain and its subdomains, ``public_url``'s host, an IPv6 address in any
spelling, a name in any case or with one trailing dot) decides before
Flask runs, and any other Host is answered ``400 Bad Request`` (body ``Bad
Request: untrusted Host``, the Host only in the ``wsgihub.security`` log),
as Django answers ``DisallowedHost``.  Flask's ``TRUSTED_HOSTS`` is left
as the app set it: nothing relies on how Werkzeug compares its entries
(as text: ``[::1]`` against ``[0:0::1]``, ``a..example.org`` passing
``.example.org``, every entry cut at its first ``:``).

* An app that set ``TRUSTED_HOSTS`` itself keeps Flask's check with its
  own list, and the hub adds none.
* An app with its own 400 page (``@app.errorhandler(400)``) gets the
  error Flask gave before, ``SecurityError("Host 'evil.com' is not
  trusted.")``, rendered by Flask in a request context with no URL adapter
  (nothing is built with the untrusted Host), then its ``after_request``
  and teardown functions; its ``before_request`` functions and views do not
  run.
* Middleware inside the app (``app.wsgi_app = ProxyFix(app.wsgi_app,
  x_host=1)``) runs after the check in front and may change the Host: for
  such an app the Host Flask ends up with is checked again from Flask's
  ``request_started`` signal, before ``before_request`` functions, views
  and routing redirects (:class:`UntrustedHost`, answered as above).
* Nothing is checked for ``*`` or a hub that trusts nothing.  Contexts
  entered by code (``hub.request_context``) do not go through the mount.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import Flask, request, request_started
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response

from wsgihub.urls import REFUSAL_BODY, HostCheck, log_refused_host, refuse_host, request_host

if TYPE_CHECKING:
    from wsgihub import Hub, Peg
    from wsgihub.types import Environ, StartResponse

__all__ = ["UntrustedHost", "for_code", "guard"]

KEY = "TRUSTED_HOSTS"



class UntrustedHost(SecurityError):
    """A Host the hub does not trust, found inside Flask (after middleware in ``app.wsgi_app``).

    Its description is Werkzeug's (``Host 'evil.com' is not trusted.``), for
    an app's own 400 page; without one, its response is the hub's body,
    which does not echo the Host.
    """

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        return Response(REFUSAL_BODY, 400, content_type="text/plain; charset=utf-8")


def guard(app: Flask, hub: Hub, peg: Peg) -> None:
    """Put ``peg``'s app behind the hub's Host check, unless the app set ``TRUSTED_HOSTS`` itself."""
    if app.config.get(KEY) is not None:
        return  # the app's own choice: Flask checks its own list
    mounted = peg.app
    peg.app = HostCheck.guard(mounted, hub.hosts, partial(_refuse, app))
    if peg.app is not mounted and _has_middleware_inside(app):
        # connected once per app, never taken back: it asks the hub serving each request
        request_started.connect(_check_inside, app, weak=False)


def _has_middleware_inside(app: Flask) -> bool:
    """Whether ``app.wsgi_app`` was replaced (wrapped by middleware), not the class's own."""
    return getattr(app.wsgi_app, "__func__", None) is not getattr(type(app), "wsgi_app", None)


def _check_inside(sender: Flask, **extra: Any) -> None:
    """``request_started``: refuse the Host Flask got, if the hub serving the request does not trust it."""
    environ = request.environ
    trust = getattr(environ.get("wsgihub.hub"), "hosts", None)
    if trust is None or not trust.restricts:
        return
    host = request_host(environ)
    if not trust.allows(host):
        log_refused_host(environ, host, "set inside the app")
        raise UntrustedHost(f"Host {host!r} is not trusted.")


def _refuse(app: Flask, environ: Environ, start_response: StartResponse, host: str) -> Iterable[bytes]:
    """The 400 for an untrusted Host: the hub's, or the app's own 400 page rendered by Flask."""
    if not app.error_handler_spec.get(None, {}).get(400):
        return refuse_host(environ, start_response, host)
    log_refused_host(environ, host, "the app's 400 page")
    error = SecurityError(f"Host {host!r} is not trusted.")
    ctx = app.request_context(environ)
    ctx.url_adapter = None  # as Flask leaves it for a Host it refuses: nothing is built with it
    ctx.request.routing_exception = error
    raised: BaseException | None = None
    try:  # what Flask.wsgi_app and full_dispatch_request do, from the error on
        ctx.push()
        try:
            answer = app.handle_user_exception(error)
            if answer is error:  # no handler takes it after all: the hub's answer, no echo
                return refuse_host(environ, start_response, host)
            response = app.finalize_request(answer)
        except Exception as exc:  # noqa: BLE001  (Flask answers any error of its handler 500)
            raised = exc
            response = app.handle_exception(exc)
        result: Iterable[bytes] = response(environ, start_response)  # type: ignore[arg-type]  # wsgiref vs ours
        return result
    finally:
        ctx.pop(raised)


def for_code(ctx: Any) -> None:
    """Let a request context entered by code (``hub.request_context``) build URLs whatever its Host.

    An app's own ``TRUSTED_HOSTS`` is about clients.  A context the hub
    enters for code gets ``public_url``'s host, the current request's
    (already accepted), or ``localhost``; Flask would refuse the last one
    and leave the context without a URL adapter (``flask.url_for``
    failing).  Bind it as Flask would without the check.
    """
    request = ctx.request
    if ctx.url_adapter is not None or not isinstance(request.routing_exception, SecurityError):
        return
    app = ctx.app
    request.trusted_hosts = None
    request.routing_exception = None
    server_name = None if app.url_map.host_matching else app.config["SERVER_NAME"]
    subdomain = None if app.url_map.host_matching or app.subdomain_matching else app.url_map.default_subdomain or ""
    ctx.url_adapter = app.url_map.bind_to_environ(request.environ, server_name=server_name, subdomain=subdomain)
