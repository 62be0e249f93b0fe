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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.base import BaseHandler

from wsgihub.errors import UntrustedHostError

__all__ = ["UntrustedHostMiddleware", "answer_400"]

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
