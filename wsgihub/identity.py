"""One login across the seam: who is logged in, asked of the app that owns the login.

A site has one login, kept by one app (a legacy Django site); the other
apps (a grafted Flask app, a Pyramid API) ask it who the user is instead
of keeping logins of their own.  The question travels over the partyline
as two services whose payload is the WSGI environ of the request asking:

- :data:`IDENTITY` (``"identity"``): answer an :class:`Identity` for the
  user the request's cookies are logged in as, or raise
  :class:`~wsgihub.HighAndDry` ("not my login");
- :data:`LOGOUT` (``"logout"``): end that login (answer ``True``).

An answer that needs response headers (the ``Set-Cookie`` deleting a
session cookie) adds them to ``environ[RESPONSE_HEADERS]`` with
:func:`add_response_headers`; whoever builds the response sends them.  The
framework helpers do that for you (``wsgihub_flask.current_user``,
``wsgihub_flask.logout_user``, Pyramid's ``HubIdentityPolicy``); plain WSGI
code uses the two functions here::

    from wsgihub import identity

    def app(environ, start_response):
        user = identity.identify(environ)          # Identity(...), never None
        if environ["PATH_INFO"] == "/logout":
            headers = identity.logout(environ)     # [('Set-Cookie', 'sessionid=""; ...')]
            start_response("303 See Other", [("Location", "/"), *headers])
            return [b""]
        headers = [("Content-Type", "text/plain"), *identity.response_headers(environ)]
        start_response("200 OK", headers)
        return [f"hello {user.username or 'stranger'}".encode()]

The Django adapter answers both services from Django's own session and
authentication (see ``docs/login.md``).  Core imports no framework: an
:class:`Identity` is a plain value, with no secret in it (no password hash,
no session key), safe to log and to hand to templates.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from . import current as _current
from .errors import NoSuchServiceName, WsgihubError

if TYPE_CHECKING:
    from .hub import Hub

__all__ = [
    "ANONYMOUS",
    "CACHE",
    "IDENTITY",
    "LOGOUT",
    "RESPONSE_HEADERS",
    "Header",
    "Identity",
    "add_response_headers",
    "cached",
    "identify",
    "logout",
    "response_headers",
]

#: The partyline service that says who is logged in (payload: the request's environ).
IDENTITY: Final = "identity"
#: The partyline service that ends the login (payload: the request's environ).
LOGOUT: Final = "logout"
#: Environ key: response headers the login side needs sent with this request's response.
RESPONSE_HEADERS: Final = "wsgihub.identity.response_headers"
#: Environ key: the :class:`Identity` already found for this request.
CACHE: Final = "wsgihub.identity"

#: One response header, ``(name, value)`` as WSGI's ``start_response`` takes it.
Header = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is logged in, as every framework can read it.

    ``id`` is the user's primary key as a string (``None`` when nobody is
    logged in); ``mount`` names the mount whose login answered.  The
    attribute names follow the frameworks' own (``is_authenticated``,
    ``is_anonymous``, Django's ``is_staff`` / ``is_superuser``), so
    templates written for ``request.user`` or Flask-Login's
    ``current_user`` read it unchanged.
    """

    id: str | None
    username: str
    is_authenticated: bool
    is_staff: bool = False
    is_superuser: bool = False
    email: str = ""
    #: The user's full name, as the login side spells it ("" if unknown).
    name: str = ""
    #: Names of the user's groups (roles), as the login side has them.
    groups: tuple[str, ...] = ()
    mount: str | None = None

    @property
    def is_anonymous(self) -> bool:
        """The opposite of :attr:`is_authenticated` (Django's and Flask-Login's spelling)."""
        return not self.is_authenticated

    def __bool__(self) -> bool:
        """True when somebody is logged in: ``if identify(environ): ...``."""
        return self.is_authenticated


#: Nobody is logged in.
ANONYMOUS: Final = Identity(None, "", False)


def _request_environ(environ: MutableMapping[str, Any] | None, what: str) -> tuple[Hub, MutableMapping[str, Any]]:
    """The hub and the environ of the request ``what`` is asked for."""
    if environ is None:
        current = _current.get()
        if current is None:
            raise WsgihubError(
                f"wsgihub.identity.{what}() called outside a request served by a hub; pass the environ"
            )
        return current[0], current[1]
    hub = _current.find_hub(environ)
    if hub is None:
        raise WsgihubError(
            f"wsgihub.identity.{what}(): no hub serves this request (the app is not mounted on a Hub)"
        )
    return hub, environ


def identify(environ: MutableMapping[str, Any] | None = None) -> Identity:
    """Who the request's cookies are logged in as: an :class:`Identity`, never ``None``.

    ``environ`` is the WSGI environ of the request (default: the request
    the hub serves in this thread).  Every mount that answers the
    :data:`IDENTITY` service is asked; the first authenticated answer wins,
    in connection order, else the first answer, else :data:`ANONYMOUS`
    (nobody answers when no mount keeps a login).  The result is kept in
    ``environ[CACHE]``: a request asks the login side once.
    """
    hub, environ = _request_environ(environ, "identify")
    found = environ.get(CACHE)
    if isinstance(found, Identity):
        return found
    try:
        answers = hub.partyline.ask_around(IDENTITY, environ)
    except NoSuchServiceName:
        answers = []
    identities = [a for a in answers if isinstance(a, Identity)]
    result = next((i for i in identities if i.is_authenticated), None)
    if result is None:
        result = identities[0] if identities else ANONYMOUS
    environ[CACHE] = result
    return result


def logout(environ: MutableMapping[str, Any] | None = None) -> list[Header]:
    """End the login of the request's user; return the headers the response must carry.

    Every mount that answers the :data:`LOGOUT` service ends its login (the
    Django adapter flushes the session).  The returned headers (and any an
    earlier :func:`identify` left) delete the session cookie in the
    browser: add them to the response.  Afterwards :func:`identify` answers
    :data:`ANONYMOUS` for this request.  Raises
    :class:`~wsgihub.WsgihubError` when no mount keeps a login.
    """
    hub, environ = _request_environ(environ, "logout")
    try:
        answers = hub.partyline.ask_around(LOGOUT, environ)
    except NoSuchServiceName:
        answers = []
    if not answers:
        raise WsgihubError(
            f"wsgihub.identity.logout(): no mount of hub {hub.name!r} answers the {LOGOUT!r} service "
            "(mount the app that keeps the login, e.g. a Django project with django.contrib.auth)"
        )
    environ[CACHE] = ANONYMOUS
    return response_headers(environ)


def add_response_headers(environ: MutableMapping[str, Any], headers: list[Header]) -> None:
    """For service handlers: ask that ``headers`` be sent with the response to ``environ``'s request."""
    if headers:
        pending = environ.setdefault(RESPONSE_HEADERS, [])
        pending.extend(headers)


def response_headers(environ: MutableMapping[str, Any]) -> list[Header]:
    """Take the headers the login side asked to send (each is handed out once)."""
    pending = environ.pop(RESPONSE_HEADERS, None)
    return list(pending) if pending else []


def cached(environ: Mapping[str, Any]) -> Identity | None:
    """The identity :func:`identify` already found for this request, if any (no lookup)."""
    found = environ.get(CACHE)
    return found if isinstance(found, Identity) else None
