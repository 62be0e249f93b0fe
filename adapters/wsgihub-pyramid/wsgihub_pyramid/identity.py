"""The site's login, the Pyramid way: a security policy that asks the hub.

A Pyramid app mounted beside (or grafted onto) the app that keeps the
site's login (a Django project) gets ``request.identity``,
``request.authenticated_userid``, ``request.is_authenticated`` and
permission checks from that login::

    from wsgihub_pyramid import HubIdentityPolicy

    config = Configurator()
    config.set_security_policy(HubIdentityPolicy())
    # or: config.include("wsgihub_pyramid.identity")

    @view_config(route_name="report", permission="view", renderer="json")
    def report(request):
        return {"user": request.identity.username}   # a wsgihub.identity.Identity

    @view_config(route_name="logout", request_method="POST")
    def logout(request):
        return HTTPSeeOther("/", headers=forget(request))   # ends the Django session

``request.identity`` is the :class:`wsgihub.identity.Identity` of the
logged-in user, or ``None`` for an anonymous request (Pyramid's
convention).  ``authenticated_userid`` is ``identity.id``.  ``permits``
checks the context's ACL (``__acl__``) against these principals:
``system.Everyone``; when logged in also ``system.Authenticated``, the user
id, ``user:<username>``, ``role:staff`` / ``role:superuser`` (Django's
flags) and ``group:<name>`` for each group.  ``forget(request)`` ends the
site's login and returns the headers deleting its cookie;
``remember(request, userid)`` raises: users log in on the login side's own
page (its password checks, CSRF, rate limits), not through Pyramid.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from zope.interface import implementer

from wsgihub import identity as _identity
from wsgihub.errors import WsgihubError
from wsgihub.identity import Header, Identity

__all__ = ["HubIdentityPolicy", "includeme", "principals_of"]

#: Environ key: this request already has the callback that sends the login side's headers.
_HOOKED: Final = "wsgihub_pyramid.identity.hooked"


def principals_of(found: Identity | None) -> list[str]:
    """The principals an :class:`~wsgihub.identity.Identity` stands for (see the module docs)."""
    principals = [Everyone]
    if found is None or not found.is_authenticated:
        return principals
    principals.append(Authenticated)
    if found.id is not None:
        principals.append(found.id)
    principals.append(f"user:{found.username}")
    if found.is_staff:
        principals.append("role:staff")
    if found.is_superuser:
        principals.append("role:superuser")
    principals.extend(f"group:{name}" for name in found.groups)
    return principals


@implementer(ISecurityPolicy)
class HubIdentityPolicy:
    """A Pyramid security policy whose user is the one logged in to the site.

    The user is asked of the hub (:func:`wsgihub.identity.identify`, the
    partyline ``identity`` service, answered by the Django adapter), once per
    request.
    """

    def __init__(self) -> None:
        self._acl = ACLHelper()

    def identity(self, request: Any) -> Identity | None:
        """The logged-in user's :class:`~wsgihub.identity.Identity`, or ``None``."""
        environ: MutableMapping[str, Any] = request.environ
        found = _identity.identify(environ)
        if not environ.get(_HOOKED):
            environ[_HOOKED] = True
            request.add_response_callback(_add_login_headers)
        return found if found.is_authenticated else None

    def authenticated_userid(self, request: Any) -> str | None:
        """The user's id (the login side's primary key, as a string), or ``None``."""
        found: Identity | None = request.identity
        return found.id if found is not None else None

    def effective_principals(self, request: Any) -> list[str]:
        """The principals of the request's user (see :func:`principals_of`)."""
        return principals_of(request.identity)

    def permits(self, request: Any, context: Any, permission: str) -> Any:
        """``Allowed`` / ``Denied`` from the context's ACL and the user's principals."""
        return self._acl.permits(context, self.effective_principals(request), permission)

    def remember(self, request: Any, userid: Any, **kw: Any) -> list[Header]:
        """Refused: the site's login happens on the login side's own page."""
        raise WsgihubError(
            "HubIdentityPolicy.remember(): users log in on the site's login page (the Django "
            "project's login view), not through Pyramid; link there with request.hub_url(...)"
        )

    def forget(self, request: Any, **kw: Any) -> list[Header]:
        """End the site's login (the Django session); return the headers deleting its cookie."""
        return _identity.logout(request.environ)


def _add_login_headers(request: Any, response: Any) -> None:
    """Response callback: the login side's pending headers, and ``Vary: Cookie``."""
    for header in _identity.response_headers(request.environ):
        response.headerlist.append(header)
    vary = set(response.vary or ())
    if "Cookie" not in vary:
        response.vary = (*(response.vary or ()), "Cookie")


def includeme(config: Any) -> None:
    """``config.include("wsgihub_pyramid.identity")``: use :class:`HubIdentityPolicy`."""
    config.set_security_policy(HubIdentityPolicy())
