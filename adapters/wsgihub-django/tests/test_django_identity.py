"""One login across the seam: Flask and Pyramid apps see the user logged in to the Django site.

Everything runs as a user runs it: Django's own ``LoginView`` (a POST with
the CSRF token from the form), the hub served by waitress on loopback
(``wsgihub.testing.serving``), a Flask app grafted onto the Django project,
a Pyramid app and a Flask-Login app mounted beside it.  What is asserted is
what the browser and the apps see: page bodies, ``Set-Cookie`` headers,
and Django's own pages afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import requests
import wsgihub_django.plugin
import wsgihub_flask.plugin
import wsgihub_pyramid.plugin
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.test import override_settings

import wsgihub
from wsgihub import identity
from wsgihub.plugins import make_plugins
from wsgihub.testing import serving

pytestmark = pytest.mark.live

PASSWORD = "correct horse battery staple"


# -- the apps ------------------------------------------------------------------------------
def flask_app() -> flask.Flask:
    """New pages grafted onto the Django site: they read the site's login."""
    from wsgihub_flask import current_user, logout_user

    app = flask.Flask("identity_new")

    @app.get("/flask/me")
    def me() -> str:
        user = current_user
        return f"{user.username or 'anonymous'} id={user.id} staff={user.is_staff} groups={','.join(user.groups)}"

    @app.get("/flask/template")
    def template() -> str:
        return flask.render_template_string(
            "{% if hub_user.is_authenticated %}hello {{ hub_user.username }}{% else %}hello stranger{% endif %}"
        )

    @app.post("/flask/logout")
    def logout() -> str:
        logout_user()
        return f"bye, now {current_user.username or 'anonymous'}"

    return app


def flask_login_app() -> flask.Flask:
    """A Flask-Login app: ``login_required`` and ``flask_login.current_user`` follow the site's login."""
    flask_login = pytest.importorskip("flask_login")
    from wsgihub_flask import login_with_hub

    app = flask.Flask("identity_flask_login")
    app.secret_key = "flask-login-test-only"
    app.config["SESSION_COOKIE_PATH"] = "/fl"
    manager = flask_login.LoginManager(app)
    manager.login_view = "/accounts/login/"  # the Django login page
    login_with_hub(manager)

    @app.get("/private")
    @flask_login.login_required
    def private() -> str:
        user = flask_login.current_user
        return f"private page of {user.username} (id {user.get_id()}, staff={user.is_staff})"

    return app


def pyramid_app() -> Any:
    """An API mounted beside the site: ``request.identity`` and permissions from the site's login."""
    from pyramid.authorization import Allow
    from pyramid.config import Configurator
    from pyramid.response import Response
    from pyramid.security import forget
    from wsgihub_pyramid import HubIdentityPolicy

    class Root:
        __acl__ = ((Allow, "role:staff", "staff-only"), (Allow, "group:editors", "edit"))

        def __init__(self, request: Any) -> None:
            self.request = request

    def me(request: Any) -> Response:
        found = request.identity
        name = found.username if found is not None else "anonymous"
        return Response(f"{name} userid={request.authenticated_userid} authenticated={request.is_authenticated}")

    def staff(request: Any) -> Response:
        return Response("staff only")

    def edit(request: Any) -> Response:
        return Response("editors only")

    def logout(request: Any) -> Response:
        return Response("bye", headers=forget(request))

    with Configurator(root_factory=Root) as config:
        config.set_security_policy(HubIdentityPolicy())
        config.add_route("me", "/me")
        config.add_view(me, route_name="me")
        config.add_route("staff", "/staff")
        config.add_view(staff, route_name="staff", permission="staff-only")
        config.add_route("edit", "/edit")
        config.add_view(edit, route_name="edit", permission="edit")
        config.add_route("logout", "/logout")
        config.add_view(logout, route_name="logout", request_method="POST")
        return config.make_wsgi_app()


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def alice() -> Iterator[User]:
    """A staff user in the group "editors" (other tests of the session may have an "alice" too)."""
    User.objects.filter(username="alice").delete()
    user = User.objects.create_user(
        "alice", "alice@example.com", PASSWORD, first_name="Alice", last_name="Liddell", is_staff=True
    )
    group, _ = Group.objects.get_or_create(name="editors")
    user.groups.add(group)
    yield user
    User.objects.filter(pk=user.pk).delete()
    group.delete()


@pytest.fixture
def hub(django_app: Any) -> Iterator[wsgihub.Hub]:
    """Django at / (and /legacy), Flask grafted onto it, Pyramid at /api, Flask-Login at /fl."""
    plugins = make_plugins(
        autoload=False, plugins=[wsgihub_django.plugin, wsgihub_flask.plugin, wsgihub_pyramid.plugin]
    )
    with override_settings(ROOT_URLCONF="djsite_identity_urls"):
        hub = wsgihub.Hub(plugins=plugins, trusted_hosts=["127.0.0.1"])
        hub.mount("/", django_app, name="site")
        hub.mount("/legacy", django_app, name="legacy")
        hub.graft(flask_app(), over="site", name="new")
        hub.mount("/api", pyramid_app(), name="api")
        yield hub
        for peg in list(hub.pegs()):
            hub.unmount(peg)


@pytest.fixture
def site(hub: wsgihub.Hub) -> Iterator[str]:
    with serving(hub, threads=4) as live:
        yield live.url.rstrip("/")


def log_in(site: str, username: str = "alice", password: str = PASSWORD, next_url: str = "/flask/me") -> requests.Session:
    """Log in through Django's real LoginView: GET the form, POST it with its CSRF token."""
    browser = requests.Session()
    form = browser.get(f"{site}/accounts/login/", params={"next": next_url}, timeout=10)
    assert form.status_code == 200, form.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None, form.text
    answer = browser.post(
        f"{site}/accounts/login/",
        data={"username": username, "password": password, "next": next_url, "csrfmiddlewaretoken": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"] == next_url
    assert "sessionid" in browser.cookies
    return browser


def session_cookie(browser: requests.Session) -> dict[str, str]:
    return {"Cookie": f"sessionid={browser.cookies['sessionid']}"}


def set_cookies(response: requests.Response) -> list[str]:
    return [v for k, v in response.raw.headers.items() if k.lower() == "set-cookie"]


# -- tests ---------------------------------------------------------------------------------
def test_flask_and_pyramid_see_the_django_login(site: str, alice: User) -> None:
    anonymous = requests.get(f"{site}/flask/me", timeout=10)
    assert anonymous.text == "anonymous id=None staff=False groups="
    assert "Cookie" in anonymous.headers["Vary"]
    assert requests.get(f"{site}/api/me", timeout=10).text == "anonymous userid=None authenticated=False"
    assert requests.get(f"{site}/api/staff", timeout=10).status_code == 403

    browser = log_in(site)
    assert browser.get(f"{site}/flask/me", timeout=10).text == f"alice id={alice.pk} staff=True groups=editors"
    assert browser.get(f"{site}/flask/template", timeout=10).text == "hello alice"
    assert browser.get(f"{site}/me/", timeout=10).text == "alice"  # Django's own page
    api = browser.get(f"{site}/api/me", timeout=10)
    assert api.text == f"alice userid={alice.pk} authenticated=True"
    assert "Cookie" in api.headers["Vary"]
    assert browser.get(f"{site}/api/staff", timeout=10).text == "staff only"
    assert browser.get(f"{site}/api/edit", timeout=10).text == "editors only"


def test_a_wrong_password_or_a_forged_cookie_is_nobody(site: str, alice: User) -> None:
    browser = requests.Session()
    form = browser.get(f"{site}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    refused = browser.post(
        f"{site}/accounts/login/",
        data={"username": "alice", "password": "wrong", "csrfmiddlewaretoken": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert refused.status_code == 200 and "didn't match" in refused.text
    assert browser.get(f"{site}/flask/me", timeout=10).text.startswith("anonymous")
    forged = {"Cookie": "sessionid=not-a-session-key"}
    assert requests.get(f"{site}/flask/me", headers=forged, timeout=10).text.startswith("anonymous")
    assert requests.get(f"{site}/api/me", headers=forged, timeout=10).text.startswith("anonymous")


def test_a_changed_password_logs_the_user_out_everywhere(site: str, alice: User) -> None:
    browser = log_in(site)
    stale = session_cookie(browser)
    assert requests.get(f"{site}/flask/me", headers=stale, timeout=10).text.startswith("alice")

    alice.set_password("a new password")  # the session hash no longer matches
    alice.save()

    seen = requests.get(f"{site}/flask/me", headers=stale, timeout=10)
    assert seen.text.startswith("anonymous")
    # Django flushed the session, as its own middleware would: the Flask response deletes the cookie
    assert any(c.startswith('sessionid="";') and "Max-Age=0" in c for c in set_cookies(seen)), set_cookies(seen)
    assert requests.get(f"{site}/me/", headers=stale, timeout=10).text == "anonymous"
    assert requests.get(f"{site}/api/me", headers=stale, timeout=10).text.startswith("anonymous")


def test_a_session_hash_from_a_rotated_secret_key_is_kept(site: str, alice: User) -> None:
    """SECRET_KEY rotated with the old one in SECRET_KEY_FALLBACKS: Django re-keys the session;
    the Flask response carries the new session cookie, so the user stays logged in."""
    from django.conf import settings

    browser = log_in(site)
    old_cookie = session_cookie(browser)
    with override_settings(SECRET_KEY="a-rotated-test-only-key", SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        seen = requests.get(f"{site}/flask/me", headers=old_cookie, timeout=10)
        assert seen.text.startswith("alice")
        renewed = [c for c in set_cookies(seen) if c.startswith("sessionid=")]
        assert len(renewed) == 1 and not renewed[0].startswith('sessionid="";'), renewed
        new_cookie = {"Cookie": renewed[0].split(";")[0]}
        assert new_cookie != old_cookie
        assert requests.get(f"{site}/me/", headers=new_cookie, timeout=10).text == "alice"
        assert requests.get(f"{site}/flask/me", headers=new_cookie, timeout=10).text.startswith("alice")


def test_logout_from_flask_ends_the_django_session(site: str, alice: User) -> None:
    browser = log_in(site)
    cookie = session_cookie(browser)
    assert Session.objects.filter(session_key=browser.cookies["sessionid"]).exists()

    bye = requests.post(f"{site}/flask/logout", headers=cookie, timeout=10)
    assert bye.text == "bye, now anonymous"
    assert any(c.startswith('sessionid="";') for c in set_cookies(bye)), set_cookies(bye)
    assert "Cookie" in bye.headers["Vary"]
    assert not Session.objects.filter(session_key=browser.cookies["sessionid"]).exists()
    # the old cookie is worth nothing now, on Django's own pages too
    assert requests.get(f"{site}/me/", headers=cookie, timeout=10).text == "anonymous"
    assert requests.get(f"{site}/flask/me", headers=cookie, timeout=10).text.startswith("anonymous")


def test_forget_in_pyramid_ends_the_django_session(site: str, alice: User) -> None:
    browser = log_in(site)
    cookie = session_cookie(browser)
    bye = requests.post(f"{site}/api/logout", headers=cookie, timeout=10)
    assert bye.text == "bye"
    assert any(c.startswith('sessionid="";') for c in set_cookies(bye)), set_cookies(bye)
    assert requests.get(f"{site}/me/", headers=cookie, timeout=10).text == "anonymous"


def test_flask_login_current_user_is_the_django_user(hub: wsgihub.Hub, alice: User) -> None:
    hub.mount("/fl", flask_login_app(), name="fl")
    with serving(hub, threads=4) as live:
        site = live.url.rstrip("/")
        away = requests.get(f"{site}/fl/private", allow_redirects=False, timeout=10)
        assert away.status_code == 302
        assert away.headers["Location"] == "/accounts/login/?next=%2Ffl%2Fprivate"
        # log in on the Django page Flask-Login sent us to, and come back
        browser = log_in(site, next_url="/fl/private")
        page = browser.get(f"{site}/fl/private", timeout=10)
        assert page.text == f"private page of alice (id {alice.pk}, staff=True)"


def test_mounted_side_by_side_below_a_prefix(django_app: Any, alice: User) -> None:
    """Django at /legacy only, Flask mounted at /new: the login page is /legacy/accounts/login/."""
    plugins = make_plugins(autoload=False, plugins=[wsgihub_django.plugin, wsgihub_flask.plugin])
    with override_settings(ROOT_URLCONF="djsite_identity_urls"):
        hub = wsgihub.Hub(plugins=plugins, trusted_hosts=["127.0.0.1"])
        hub.mount("/legacy", django_app, name="legacy")
        hub.mount("/new", flask_app(), name="new")
        try:
            with serving(hub) as live:
                site = live.url.rstrip("/")
                browser = requests.Session()
                form = browser.get(f"{site}/legacy/accounts/login/", timeout=10)
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
                assert token is not None, form.text
                answer = browser.post(
                    f"{site}/legacy/accounts/login/",
                    data={"username": "alice", "password": PASSWORD, "next": "/new/flask/me",
                          "csrfmiddlewaretoken": token.group(1)},
                    timeout=10,
                )
                assert answer.url == f"{site}/new/flask/me"  # followed Django's redirect into Flask
                assert answer.text.startswith("alice ")
                assert browser.get(f"{site}/legacy/me/", timeout=10).text == "alice"
                assert browser.post(f"{site}/new/flask/logout", timeout=10).text == "bye, now anonymous"
                assert browser.get(f"{site}/legacy/me/", timeout=10).text == "anonymous"
        finally:
            for peg in list(hub.pegs()):
                hub.unmount(peg)


def test_the_partyline_service_and_the_hub_helper(hub: wsgihub.Hub, alice: User) -> None:
    """``ask_around("identity", environ)`` gets one answer (the first Django mount), as an Identity."""
    with serving(hub) as live:
        browser = log_in(live.url.rstrip("/"))
        cookie = browser.cookies["sessionid"]
    environ: dict[str, Any] = {"HTTP_COOKIE": f"sessionid={cookie}", "HTTP_HOST": "127.0.0.1", "wsgihub.hub": hub}
    answers = hub.partyline.ask_around(identity.IDENTITY, environ)
    assert answers == [
        identity.Identity(
            id=str(alice.pk),
            username="alice",
            is_authenticated=True,
            is_staff=True,
            email="alice@example.com",
            name="Alice Liddell",
            groups=("editors",),
            mount="site",
        )
    ]
    found = identity.identify(environ)
    assert found == answers[0] and found and not found.is_anonymous
    assert identity.identify(environ) is found  # asked once per request
    assert identity.identify({"wsgihub.hub": hub}) == identity.Identity(None, "", False, mount="site")
    assert "password" not in repr(found) and cookie not in repr(found)


def test_outside_a_hub_request_the_helper_says_so() -> None:
    with pytest.raises(wsgihub.WsgihubError, match="outside a request served by a hub"):
        identity.identify()
    with pytest.raises(wsgihub.WsgihubError, match="no hub serves this request"):
        identity.identify({"HTTP_COOKIE": "sessionid=x"})


def test_without_a_login_to_share_nobody_is_logged_in_and_logout_says_so() -> None:
    hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_flask.plugin]))
    hub.mount("/", flask_app())
    environ: dict[str, Any] = {"wsgihub.hub": hub}
    assert identity.identify(environ) is identity.ANONYMOUS
    with pytest.raises(wsgihub.WsgihubError, match="no mount of hub 'wsgihub' answers the 'logout' service"):
        identity.logout(environ)
