"""The Django login, answered to the other apps of the site (partyline ``identity`` and ``logout``).

A Flask or Pyramid app mounted beside (or grafted onto) a Django project
asks ``wsgihub.identity.identify(environ)``; the Django mount answers with
Django's own machinery, exactly as a Django view would see ``request.user``:

1. a real ``WSGIRequest`` is built for the asking request's cookies and
   headers (``hub.request_context``: a GET for ``/`` below the Django mount,
   so the asking request's body is never read);
2. the project's ``SessionMiddleware`` loads the session from the session
   cookie;
3. ``django.contrib.auth.get_user(request)`` loads the user through the
   authentication backend recorded in the session and **verifies the
   session hash**: a session whose hash no longer matches (the password was
   changed, on this device or another) is flushed and the user is
   anonymous, as on every Django page;
4. the project's ``SessionMiddleware.process_response`` runs on an empty
   response, so whatever Django would have sent (the cookie deleted after a
   flush, a session re-keyed after a ``SECRET_KEY`` rotation) is handed to
   the asking app through ``environ[wsgihub.identity.RESPONSE_HEADERS]``.

``logout`` does the same with ``django.contrib.auth.logout(request)``
(``user_logged_out`` is sent, the session is flushed), and the response
headers delete the session cookie.

One Django project runs per process, so when it is mounted at several
prefixes only the first Django mount of the hub answers.  The services are
connected when the project has ``django.contrib.auth`` and a
``SessionMiddleware`` in ``MIDDLEWARE``; a project without them has no
login to share.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, Final

from django.apps import apps
from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse

from wsgihub import HighAndDry
from wsgihub.identity import IDENTITY, LOGOUT, Header, Identity, add_response_headers

if TYPE_CHECKING:
    from django.core.handlers.wsgi import WSGIRequest

    from wsgihub import Hub, PartylineOperator, Peg

    from .adapter import DjangoAdapter

__all__ = ["as_identity", "connect", "shares_login"]

#: Environ keys of the asking request that Django's request may read.  The
#: body, the method and the path stay the asking app's.
_CARRIED: Final = ("REMOTE_ADDR", "REMOTE_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme", "HTTPS")
_NOT_CARRIED: Final = ("HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE")


def shares_login(adapter: DjangoAdapter) -> bool:
    """Whether the project keeps a login to share: ``django.contrib.auth`` and a SessionMiddleware.

    (``django.contrib.sessions`` need not be installed: the signed-cookie
    session engine works without its models.)
    """
    return apps.is_installed("django.contrib.auth") and any(
        issubclass(cls, SessionMiddleware) for cls in adapter._middleware_classes()
    )


def connect(hub: Hub, peg: Peg, operator: PartylineOperator) -> None:
    """Connect the ``identity`` and ``logout`` handlers of the Django mount on ``peg``."""
    adapter: DjangoAdapter = peg.adapter  # type: ignore[assignment]
    if not shares_login(adapter):
        return
    login = _Login(hub, peg, adapter)
    operator.connect(IDENTITY, login.identity)
    operator.connect(LOGOUT, login.logout)


def as_identity(user: Any, mount: str | None = None) -> Identity:
    """The framework-neutral :class:`~wsgihub.identity.Identity` of a Django user (no secrets)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Identity(None, "", False, mount=mount)
    get_full_name = getattr(user, "get_full_name", None)
    email_field = getattr(type(user), "get_email_field_name", None)
    groups: tuple[str, ...] = ()
    if hasattr(user, "groups"):
        groups = tuple(sorted(user.groups.values_list("name", flat=True)))
    return Identity(
        id=str(user.pk),
        username=user.get_username(),
        is_authenticated=True,
        is_staff=bool(getattr(user, "is_staff", False)),
        is_superuser=bool(getattr(user, "is_superuser", False)),
        email=str(getattr(user, email_field(), "") or "") if email_field is not None else "",
        name=str(get_full_name() or "") if callable(get_full_name) else "",
        groups=groups,
        mount=mount,
    )


class _Login:
    """The two handlers of one Django mount."""

    def __init__(self, hub: Hub, peg: Peg, adapter: DjangoAdapter) -> None:
        self.hub = hub
        self.peg = peg
        self.adapter = adapter
        self._session: tuple[Any, SessionMiddleware] | None = None
        self._lock = threading.Lock()
        self._label = f"django login of mount {peg.name!r}"

    def __repr__(self) -> str:
        return f"<{self._label}>"

    # -- the services ------------------------------------------------------------
    def identity(self, payload: Any) -> Identity:
        """``identity``: who the asking request's session is logged in as."""
        environ = self._environ(payload)
        with self._request(environ) as request:
            user = auth.get_user(request)  # loads the user and verifies the session hash
            request.user = user
            answer = as_identity(user, self.peg.name)
            self._respond(request, environ)
        return answer

    def logout(self, payload: Any) -> bool:
        """``logout``: ``django.contrib.auth.logout`` for the asking request's session."""
        environ = self._environ(payload)
        with self._request(environ) as request:
            request.user = auth.get_user(request)
            auth.logout(request)  # user_logged_out, session.flush()
            self._respond(request, environ)
        return True

    # -- helpers -------------------------------------------------------------------
    def _environ(self, payload: Any) -> MutableMapping[str, Any]:
        """The asking request's environ, when this mount is the one to answer it."""
        if not isinstance(payload, MutableMapping) or self._first_django_peg() is not self.peg:
            raise HighAndDry()
        return payload

    def _first_django_peg(self) -> Peg | None:
        """One project per process: only the hub's first mount that shares the login answers."""
        for peg in self.hub.pegs():
            adapter = peg.adapter
            if adapter is not None and adapter.framework == "django" and adapter.same_app_as(self.adapter):
                return peg
        return None

    def _request(self, environ: MutableMapping[str, Any]) -> Any:
        """A Django request scope carrying the asking request's cookies and headers."""
        carried = {
            key: value
            for key, value in environ.items()
            if (key.startswith("HTTP_") and key not in _NOT_CARRIED) or key in _CARRIED
        }
        return self.hub.request_context(self.peg.name, carried)

    def _respond(self, request: WSGIRequest, environ: MutableMapping[str, Any]) -> None:
        """What the project's SessionMiddleware would send: its ``Set-Cookie`` headers."""
        response = self._session_middleware().process_response(request, HttpResponse())
        headers: list[Header] = [
            ("Set-Cookie", morsel.output(header="").strip()) for morsel in response.cookies.values()
        ]
        add_response_headers(environ, headers)

    def _session_middleware(self) -> SessionMiddleware:
        """The project's SessionMiddleware (its own subclass if it has one), per MIDDLEWARE value."""
        names = settings.MIDDLEWARE
        found = self._session
        if found is None or found[0] is not names:
            with self._lock:
                cls = next(
                    (c for c in self.adapter._middleware_classes() if issubclass(c, SessionMiddleware)),
                    SessionMiddleware,
                )
                found = self._session = (names, cls(_no_response))
        return found[1]


def _no_response(request: Any) -> HttpResponse:
    """``get_response`` of a middleware used only for ``process_response``."""
    raise RuntimeError("wsgihub_django.identity: the session middleware is not called as a whole")
