"""The hub's trusted hosts, checked for a Pyramid app before its views run.

WebOb makes every relative ``Location`` absolute with the request's
``Host`` (``HTTPFound(location="/x")`` and ``append_slash`` redirects
answer ``Location: http://<Host>/x``), and Pyramid has no host check of its
own (Django has ``ALLOWED_HOSTS``, Flask ``TRUSTED_HOSTS``).  So an
attacker's ``Host: evil.com`` would come back in redirects.

When the hub has ``trusted_hosts`` or a ``public_url``, mounting a Pyramid
app registers a ``NewRequest`` subscriber in its registry that answers any
other Host ``400 Bad Request`` (raised inside the router, so the app's
exception views may render it; the default body is ``Bad Request:
untrusted Host``, the Host only in the ``wsgihub.security`` log).  The
hub's own rules decide (:meth:`wsgihub.Hub.host_is_trusted`: exact names,
``.example.org`` for a domain and its subdomains, IPv6 literals,
``public_url``'s host).  Nothing is registered for ``*`` or a hub that
trusts nothing; unmounting removes it.  Contexts entered by code
(``hub.request_context``) do not go through the router and are not checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.interfaces import INewRequest

from wsgihub.urls import REFUSAL_BODY, log_refused_host, request_host

if TYPE_CHECKING:
    from collections.abc import Callable

    from wsgihub import Hub

__all__ = ["guard", "unguard"]



def guard(registry: Any, hub: Hub) -> Callable[[Any], None] | None:
    """Register the Host check for ``hub`` in ``registry``; the subscriber, or ``None`` if not needed."""
    if not hub.hosts.restricts:  # '*', or no trusted_hosts and no public_url
        return None

    def check_host(event: Any) -> None:
        """Refuse a request whose Host the hub does not trust (before traversal and views)."""
        environ = event.request.environ
        host = request_host(environ)
        if hub.host_is_trusted(host):
            return
        log_refused_host(environ, host)
        raise HTTPBadRequest(body=REFUSAL_BODY, content_type="text/plain", charset="utf-8")

    registry.registerHandler(check_host, (INewRequest,))
    return check_host


def unguard(registry: Any, check_host: Callable[[Any], None] | None) -> None:
    """Remove a subscriber :func:`guard` registered."""
    if check_host is not None:
        registry.unregisterHandler(check_host, (INewRequest,))
