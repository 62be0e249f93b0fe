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
to ``django.security.DisallowedHost``, the Host never echoed.  So the
adapter adds one ``process_exception`` step, last, to the mounted
``WSGIHandler``'s exception middleware: it raises ``DisallowedHost`` from
an ``UntrustedHostError`` and leaves every other exception alone.  The
project's own ``process_exception`` methods run first, as Django orders them.

``_exception_middleware`` is the list ``BaseHandler.load_middleware`` fills
(the same since Django 1.10); a handler without it is left as it is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import DisallowedHost

from wsgihub.errors import UntrustedHostError

__all__ = ["answer_400"]


def _untrusted_host(request: Any, exception: Exception) -> None:
    """``process_exception``: ``UntrustedHostError`` becomes ``DisallowedHost`` (Django: 400)."""
    if isinstance(exception, UntrustedHostError):
        raise DisallowedHost(str(exception)) from exception


def answer_400(handler: object) -> None:
    """Make ``handler`` (a Django ``WSGIHandler``) answer an untrusted Host from a view with 400 (idempotent)."""
    chain = getattr(handler, "_exception_middleware", None)
    if isinstance(chain, list) and _untrusted_host not in chain:
        chain.append(_untrusted_host)
