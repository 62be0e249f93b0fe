"""The site's login, the Flask way: ``current_user``, ``logout_user`` and Flask-Login.

A Flask app mounted beside (or grafted onto) the app that keeps the site's
login (a Django project) reads who is logged in without a login of its own::

    from wsgihub_flask import current_user, logout_user

    @app.get("/reports")
    def reports():
        if not current_user.is_authenticated:
            return redirect(hub_url("legacy:login", next=request.path))  # Django's login page
        return f"hello {current_user.username}"   # staff: current_user.is_staff

    @app.post("/logout")
    def logout():
        logout_user()                 # ends the Django session, deletes its cookie
        return redirect("/")

``current_user`` is a proxy to the :class:`wsgihub.identity.Identity` of
the current request (asked once per request, through the partyline
``identity`` service); templates get it as ``hub_user``.  Headers the login
side needs sent (the session cookie deleted after a password change or a
logout) are added to the Flask response, with ``Vary: Cookie``.

An app that uses Flask-Login keeps its ``login_required`` and
``flask_login.current_user``: :func:`login_with_hub` makes Flask-Login load
the user from the site's login::

    login_manager = LoginManager(app)
    login_manager.login_view = "/accounts/login/"   # the Django login page
    login_with_hub(login_manager)                     # or load=lambda identity: User.by_name(...)
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Final, cast

from flask import after_this_request, current_app, request
from werkzeug.local import LocalProxy

from wsgihub import identity as _identity
from wsgihub.identity import Header, Identity

if TYPE_CHECKING:
    from flask import Flask, Response

__all__ = [
    "TEMPLATE_GLOBAL",
    "HubUser",
    "conceal",
    "current_user",
    "expose",
    "hub_identity",
    "login_with_hub",
    "logout_user",
]

#: The Jinja global every mounted Flask app gets: ``{{ hub_user.username }}``.
TEMPLATE_GLOBAL: Final = "hub_user"
#: Environ key: this request already has the hook that sends the login side's headers.
_HOOKED: Final = "wsgihub_flask.identity.hooked"


def hub_identity() -> Identity:
    """The :class:`~wsgihub.identity.Identity` of the current Flask request's user.

    Raises :class:`wsgihub.WsgihubError` when the app is not served by a
    hub, and Flask's own ``RuntimeError`` outside a request.
    """
    environ: MutableMapping[str, Any] = request.environ
    found = _identity.identify(environ)
    _send_headers_with_response(environ)
    return found


#: The current request's :class:`~wsgihub.identity.Identity` (a proxy, like ``flask.request``).
current_user: Identity = cast("Identity", LocalProxy(hub_identity))


def logout_user() -> list[Header]:
    """End the site's login for the current request's user (the Django session).

    The headers deleting the session cookie are added to this request's
    response; they are returned too.  If the app uses Flask-Login, its
    ``logout_user()`` runs as well (it clears Flask's own session keys).
    """
    environ: MutableMapping[str, Any] = request.environ
    _send_headers_with_response(environ)
    headers = _identity.logout(environ)
    _identity.add_response_headers(environ, headers)  # sent by the hook, with Vary: Cookie
    if getattr(current_app, "login_manager", None) is not None:
        import flask_login  # the app uses Flask-Login, so it is installed

        flask_login.logout_user()
    return headers


def _send_headers_with_response(environ: MutableMapping[str, Any]) -> None:
    """Once per request: add the login side's pending headers and ``Vary: Cookie`` to the response."""
    if environ.get(_HOOKED):
        return
    environ[_HOOKED] = True

    @after_this_request
    def add_login_headers(response: Response) -> Response:
        for name, value in _identity.response_headers(environ):
            response.headers.add(name, value)
        response.vary.add("Cookie")  # the page depends on who is logged in
        return response


class HubUser:
    """A Flask-Login user made from the site's :class:`~wsgihub.identity.Identity`.

    Has what Flask-Login asks of a user (``is_authenticated``,
    ``is_active``, ``is_anonymous``, ``get_id()``) and every attribute of the
    identity (``username``, ``is_staff``, ``email``, ``groups``...).
    """

    __slots__ = ("identity",)

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    @property
    def is_authenticated(self) -> bool:
        return self.identity.is_authenticated

    @property
    def is_active(self) -> bool:
        """The login side only answers users who may log in (Django drops inactive ones)."""
        return self.identity.is_authenticated

    @property
    def is_anonymous(self) -> bool:
        return not self.identity.is_authenticated

    def get_id(self) -> str | None:
        return self.identity.id

    def __getattr__(self, name: str) -> Any:
        return getattr(self.identity, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HubUser) and other.identity == self.identity

    def __hash__(self) -> int:
        return hash(self.identity)

    def __repr__(self) -> str:
        return f"<HubUser {self.identity.username!r} id={self.identity.id!r}>"


def login_with_hub(login_manager: Any, load: Callable[[Identity], Any] | None = None) -> Any:
    """Make Flask-Login's ``current_user`` the user logged in to the site.

    Installs a ``request_loader`` on ``login_manager``: for a request whose
    cookies are logged in to the site, Flask-Login's user is ``load(identity)``
    (your own user model, looked up by ``identity.username`` for example;
    ``None`` means "not a user here") or, without ``load``, a
    :class:`HubUser`.  A user the app logged in itself (Flask-Login's
    ``user_loader`` with Flask's session) still comes first, as Flask-Login
    always orders them.  Returns the loader.
    """

    def load_user_from_hub(flask_request: Any) -> Any:
        found = hub_identity()
        if not found.is_authenticated:
            return None
        return load(found) if load is not None else HubUser(found)

    login_manager.request_loader(load_user_from_hub)
    return load_user_from_hub


def expose(app: Flask) -> object | None:
    """Add the ``hub_user`` Jinja global to ``app`` unless it has one; return what was added."""
    globals_ = app.jinja_env.globals
    if TEMPLATE_GLOBAL in globals_:
        return None
    globals_[TEMPLATE_GLOBAL] = current_user
    return current_user


def conceal(app: Flask, added: object | None) -> None:
    """Remove the ``hub_user`` global if :func:`expose` added it."""
    if added is not None and app.jinja_env.globals.get(TEMPLATE_GLOBAL) is added:
        del app.jinja_env.globals[TEMPLATE_GLOBAL]
