"""wsgihub.identity without any framework: a plain WSGI app keeps the login, another asks it.

The login side here is a tiny plugin written against the documented
contract (docs/login.md): it answers the ``identity`` and ``logout``
services for its mount and asks for response headers through the environ.
The Django adapter's answer is tested with real Django in
adapters/wsgihub-django/tests/test_django_identity.py.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

import pytest

import wsgihub
from wsgihub import HighAndDry, hookimpl, identity
from wsgihub.plugins import make_plugins
from wsgihub.testing import call


class TokenLogin:
    """A login kept by the mount named ``login``: cookie ``token`` -> username."""

    def __init__(self) -> None:
        self.tokens = {"t-ann": "ann", "t-bob": "bob"}
        self.asked = 0

    def identity(self, environ: MutableMapping[str, Any]) -> identity.Identity:
        self.asked += 1
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        token = cookie["token"].value if "token" in cookie else None
        if token is None:
            raise HighAndDry()  # not logged in here: let others answer
        name = self.tokens.get(token)
        if name is None:  # a stale token: answer anonymous and delete the cookie
            identity.add_response_headers(environ, [("Set-Cookie", "token=; Max-Age=0; Path=/")])
            return identity.Identity(None, "", False, mount="login")
        return identity.Identity(name, name, True, is_staff=name == "ann", mount="login")

    def logout(self, environ: MutableMapping[str, Any]) -> bool:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        if "token" in cookie:
            self.tokens.pop(cookie["token"].value, None)
        identity.add_response_headers(environ, [("Set-Cookie", "token=; Max-Age=0; Path=/")])
        return True

    @hookimpl
    def wsgihub_invite(self, hub: wsgihub.Hub, peg: wsgihub.Peg, operator: wsgihub.PartylineOperator) -> None:
        if peg.name == "login":
            operator.connect(identity.IDENTITY, self.identity)
            operator.connect(identity.LOGOUT, self.logout)


def login_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the login page"]


def new_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A plain WSGI app that reads the site's login, as docs/login.md shows."""
    if environ["PATH_INFO"] == "/logout":
        headers = identity.logout(environ)
        start_response("303 See Other", [("Location", "/"), *headers])
        return [b""]
    user = identity.identify()  # the request the hub serves in this thread
    assert identity.identify(environ) is user  # one lookup per request
    start_response("200 OK", [("Vary", "Cookie"), *identity.response_headers(environ)])
    return [f"{user.username or 'stranger'} staff={user.is_staff}".encode()]


@pytest.fixture
def login() -> TokenLogin:
    return TokenLogin()


@pytest.fixture
def hub(login: TokenLogin) -> wsgihub.Hub:
    hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[login]))
    hub.mount("/", login_app, name="login")
    hub.mount("/new", new_app, name="new")
    return hub


def test_another_app_sees_the_login(hub: wsgihub.Hub, login: TokenLogin) -> None:
    assert call(hub, "/new/").text == "stranger staff=False"
    assert call(hub, "/new/", HTTP_COOKIE="token=t-ann").text == "ann staff=True"
    assert call(hub, "/new/", HTTP_COOKIE="token=t-bob").text == "bob staff=False"
    assert login.asked == 3


def test_headers_the_login_side_asks_for_reach_the_response(hub: wsgihub.Hub) -> None:
    stale = call(hub, "/new/", HTTP_COOKIE="token=t-gone")
    assert stale.text == "stranger staff=False"
    assert stale.header("Set-Cookie") == "token=; Max-Age=0; Path=/"


def test_logout_ends_the_login_and_returns_its_headers(hub: wsgihub.Hub) -> None:
    out = call(hub, "/new/logout", HTTP_COOKIE="token=t-ann")
    assert (out.code, out.header("Set-Cookie")) == (303, "token=; Max-Age=0; Path=/")
    assert out.environ[identity.CACHE] is identity.ANONYMOUS
    assert call(hub, "/new/", HTTP_COOKIE="token=t-ann").text == "stranger staff=False"


def test_the_first_authenticated_answer_wins(hub: wsgihub.Hub) -> None:
    second = TokenLogin()
    second.tokens = {"t-ann": "someone-else", "t-cy": "cy"}
    hub.partyline.connect(identity.IDENTITY, second.identity)  # connected after the mount's
    assert call(hub, "/new/", HTTP_COOKIE="token=t-ann").text == "ann staff=True"
    answers = hub.partyline.ask_around(identity.IDENTITY, {"HTTP_COOKIE": "token=t-ann"})
    assert [a.username for a in answers] == ["ann", "someone-else"]


def test_without_a_login_nobody_is_logged_in_and_logout_says_so() -> None:
    hub = wsgihub.Hub(plugins=make_plugins(autoload=False))
    hub.mount("/new", new_app, name="new")
    assert call(hub, "/new/", HTTP_COOKIE="token=t-ann").text == "stranger staff=False"
    with pytest.raises(wsgihub.WsgihubError, match="no mount of hub 'wsgihub' answers the 'logout' service"):
        identity.logout({"wsgihub.hub": hub})


def test_outside_a_hub_request_the_helpers_say_so() -> None:
    with pytest.raises(wsgihub.WsgihubError, match=r"identify\(\) called outside a request served by a hub"):
        identity.identify()
    with pytest.raises(wsgihub.WsgihubError, match="no hub serves this request"):
        identity.logout({"HTTP_COOKIE": "token=t-ann"})


def test_an_identity_is_a_plain_value() -> None:
    ann = identity.Identity("7", "ann", True, groups=("editors",))
    assert ann and not ann.is_anonymous and ann == identity.Identity("7", "ann", True, groups=("editors",))
    assert not identity.ANONYMOUS and identity.ANONYMOUS.is_anonymous
    assert hash(ann) == hash(identity.Identity("7", "ann", True, groups=("editors",)))
    with pytest.raises(AttributeError):
        ann.username = "bob"  # type: ignore[misc]
