"""Cookie collisions and the lifecycle of Pyramid mounts."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.csrf import CookieCSRFStoragePolicy
from pyramid.events import ApplicationCreated
from pyramid.session import SignedCookieSessionFactory
from webtest import TestApp

import wsgihub
from wsgihub import Cookie, MountWarning


def test_pyramid_and_flask_default_session_cookies_collide(
    hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any
) -> None:
    hub.mount("/", make_pyramid(session=True), name="legacy")
    with pytest.warns(MountWarning) as record:
        hub.mount("/new", make_flask())
    messages = [str(w.message) for w in record if "cookie" in str(w.message)]
    assert len(messages) == 1
    assert "'legacy'" in messages[0] and "'new'" in messages[0] and "'session'" in messages[0]
    assert messages[0] in hub.check()


def test_the_collision_is_real(hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any) -> None:
    """What the warning is about: both apps answer with Set-Cookie: session=...; Path=/."""
    from pyramid.response import Response

    def setup(config: Configurator) -> None:
        def login(request: Any) -> Response:
            request.session["user"] = "pyr"
            return Response("ok")

        config.add_route("login", "/login")
        config.add_view(login, route_name="login")

    def setup_flask(app: Any) -> None:
        import flask

        @app.route("/login")
        def login() -> str:
            flask.session["user"] = "flask"
            return "ok"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MountWarning)
        hub.mount("/", make_pyramid(setup, session=True), name="legacy")
        hub.mount("/new", make_flask(setup_flask))
    client = TestApp(hub)
    pyramid_cookie = client.get("/login").headers["Set-Cookie"]
    flask_cookie = client.get("/new/login").headers["Set-Cookie"]
    assert pyramid_cookie.startswith("session=") and "Path=/" in pyramid_cookie
    assert flask_cookie.startswith("session=") and "Path=/" in flask_cookie


def test_two_pyramid_apps_with_default_sessions_collide(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    hub.mount("/a", make_pyramid(session=True))
    with pytest.warns(MountWarning, match=r"'a'.*'b'.*'session'"):
        hub.mount("/b", make_pyramid(session=True))


def test_a_renamed_session_cookie_does_not_collide(
    hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any, no_warnings: None
) -> None:
    def setup(config: Configurator) -> None:
        config.set_session_factory(
            SignedCookieSessionFactory("x", cookie_name="legacy_session", domain="example.com")
        )

    peg = hub.mount("/", make_pyramid(setup), name="legacy")
    hub.mount("/new", make_flask())
    assert list(peg.adapter.cookies()) == [Cookie("legacy_session", "/", "example.com", "session")]  # type: ignore[union-attr]
    assert hub.check() == []


def test_no_session_factory_no_cookie(hub: wsgihub.Hub, make_pyramid: Any) -> None:
    peg = hub.mount("/", make_pyramid(), name="legacy")
    assert list(peg.adapter.cookies()) == []  # type: ignore[union-attr]


def test_the_csrf_cookie_is_reported(hub: wsgihub.Hub, make_pyramid: Any) -> None:
    def setup(config: Configurator) -> None:
        config.set_csrf_storage_policy(CookieCSRFStoragePolicy(path="/api"))

    peg = hub.mount("/", make_pyramid(setup, session=True), name="legacy")
    assert list(peg.adapter.cookies()) == [  # type: ignore[union-attr]
        Cookie("session", "/", None, "session"),
        Cookie("csrf_token", "/api", None, "CSRF"),
    ]
    with pytest.warns(MountWarning, match="CSRF cookie named 'csrf_token'"):
        hub.mount("/other", make_pyramid(setup))


def test_application_created_is_not_fired_again(hub: wsgihub.Hub, make_pyramid: Any) -> None:
    fired: list[Any] = []

    def setup(config: Configurator) -> None:
        config.add_subscriber(fired.append, ApplicationCreated)

    app = make_pyramid(setup)
    assert len(fired) == 1
    peg = hub.mount("/api", app)
    peg.adapter.start()  # type: ignore[union-attr]
    peg.adapter.stop()  # type: ignore[union-attr]
    assert TestApp(hub).get("/api/users/1").text == "pyramid user 1"
    assert len(fired) == 1


def test_the_hub_bus_start_and_stop_leave_pyramid_alone(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    fired: list[Any] = []

    def setup(config: Configurator) -> None:
        config.add_subscriber(fired.append, ApplicationCreated)

    hub.mount("/api", make_pyramid(setup))
    with hub.running():
        assert TestApp(hub).get("/api/users/1").text == "pyramid user 1"
    assert len(fired) == 1
