"""An untrusted Host escaping a Django view is Django's own ``DisallowedHost``: 400, not 500.

A view (or a template) that builds an absolute URL through the hub --
``wsgihub.url_for(..., _external=True)``, ``{% hub_url ... external %}`` --
from a request whose ``Host`` the hub does not trust gets
:class:`~wsgihub.errors.UntrustedHostError`.  Django's handler turns every
exception a view raises into a response itself (500), so the hub never
sees it and cannot answer 400 as it does for the Flask and Pyramid
adapters.

Django's own answer to an untrusted Host is ``DisallowedHost`` (a
``SuspiciousOperation``): 400 through the project's ``handler400``, logged
to ``django.security.DisallowedHost``, the Host never echoed.  A
``process_exception`` step raising it from an ``UntrustedHostError`` (and
leaving every other exception alone) gives exactly that.

Two ways to add that step:

* **Public API** -- :class:`UntrustedHostMiddleware` in the project's
  ``MIDDLEWARE`` (first, so its ``process_exception`` runs after the
  project's own, as Django orders them)::

      MIDDLEWARE = ["wsgihub_django.hosts.UntrustedHostMiddleware", ...]

* **Automatic, at mount** (:func:`answer_400`) -- for a project left
  unchanged, the step is appended to the mounted ``WSGIHandler``'s
  ``_exception_middleware``, the list ``BaseHandler.load_middleware`` fills
  from ``MIDDLEWARE`` (the same since Django 1.10).  That name is private,
  and it is used because no public way fits: ``MIDDLEWARE`` is read when
  the handler is built, before it is mounted, and changing the setting at
  run time (then ``load_middleware()`` again) would change it for every
  handler of the process, which Django's docs advise against; the
  ``got_request_exception`` signal cannot change the response; and the
  exception never leaves the handler, so nothing around it can see it.
  A handler without that list (a later Django), or one hidden behind an
  opaque wrapper mounted with ``framework="django"``, is left as it is, and
  the mount warns in one line how to get the 400 (the middleware above) --
  unless the middleware is already there.

IPv6 hosts.  Django compares ``ALLOWED_HOSTS`` with the Host as text:
``[::1]`` does not allow ``[0:0::1]``, ``[::0001]`` or
``[0:0:0:0:0:0:0:1]``, although they name one address, which the hub
trusts in every spelling.  So for every request a hub serves, the adapter
hands Django an IPv6 literal Host in compressed form (RFC 5952, the form
the hub compares and writes URLs with; the port kept), rewriting
``HTTP_HOST`` from Django's ``request_started`` signal, which Django sends
with the environ before it builds the request (:func:`respell_ipv6_hosts`).
An ``ALLOWED_HOSTS`` entry in another spelling then allows nothing: the
mount warns (:func:`allowed_hosts_problems`).  Only a Host that parses
is rewritten; anything else reaches Django as sent, for Django to refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.base import BaseHandler

from wsgihub.errors import UntrustedHostError
from wsgihub.urls import parse_host

__all__ = ["UntrustedHostMiddleware", "allowed_hosts_problems", "answer_400", "respell_ipv6_hosts"]

_RESPELL_UID = f"{__name__}.respell"

#: The middleware's dotted path, as it is written in ``MIDDLEWARE``.
MIDDLEWARE_PATH = f"{__name__}.UntrustedHostMiddleware"


def _untrusted_host(request: Any, exception: Exception) -> None:
    """``process_exception``: ``UntrustedHostError`` becomes ``DisallowedHost`` (Django: 400)."""
    if isinstance(exception, UntrustedHostError):
        raise DisallowedHost(str(exception)) from exception


class UntrustedHostMiddleware:
    """Django middleware: an ``UntrustedHostError`` from a view is answered 400 (``DisallowedHost``).

    What mounting does by itself through Django's private
    ``_exception_middleware``, through the public middleware API instead.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_exception(self, request: Any, exception: Exception) -> None:
        """Raise ``DisallowedHost`` from an ``UntrustedHostError``; leave others to Django."""
        _untrusted_host(request, exception)


def answer_400(handler: object) -> str | None:
    """Make ``handler`` (a Django ``WSGIHandler``) answer an untrusted Host from a view with 400.

    Idempotent.  Returns ``None`` when it does (or the project's
    ``MIDDLEWARE`` has :class:`UntrustedHostMiddleware`), else why not: the
    handler has no ``_exception_middleware`` list to hook into.
    """
    if MIDDLEWARE_PATH in (getattr(settings, "MIDDLEWARE", None) or ()):
        return None
    chain = getattr(handler, "_exception_middleware", None)
    if isinstance(chain, list):
        if _untrusted_host not in chain:
            chain.append(_untrusted_host)
        return None
    why = (
        f"{type(handler).__name__} has no _exception_middleware list to hook into"
        if isinstance(handler, BaseHandler)
        else f"Django's handler is hidden behind {type(handler).__name__} {handler!r:.60}"
    )
    return (
        f"an untrusted Host in an absolute URL built in a view is answered 500, not 400: "
        f"{why}; add {MIDDLEWARE_PATH!r} to MIDDLEWARE"
    )


def _respell(sender: Any, environ: Any = None, **kwargs: Any) -> None:
    """``request_started``: an IPv6 literal Host of a request a hub serves, in compressed form."""
    if environ is None:
        return
    host = environ.get("HTTP_HOST")
    if host and host[0] == "[" and "wsgihub.hub" in environ:
        parsed = parse_host(host)
        if parsed is not None:
            name, port = parsed
            environ["HTTP_HOST"] = name if port is None else f"{name}:{port}"


def respell_ipv6_hosts() -> None:
    """Hand Django IPv6 hosts in compressed form from now on (idempotent; see the module docs)."""
    signals.request_started.connect(_respell, weak=False, dispatch_uid=_RESPELL_UID)


def allowed_hosts_problems(mount: str) -> list[str]:
    """One line per IPv6 ``ALLOWED_HOSTS`` entry not in the compressed form Django is handed."""
    found = []
    for entry in getattr(settings, "ALLOWED_HOSTS", None) or ():
        if isinstance(entry, str) and entry.startswith("["):
            parsed = parse_host(entry)
            if parsed is not None and parsed[1] is None and parsed[0] != entry.lower():
                found.append(
                    f"mount {mount!r}: ALLOWED_HOSTS entry {entry!r} allows no request: the hub hands "
                    f"Django IPv6 hosts in compressed form; write {parsed[0]!r}"
                )
    return found
