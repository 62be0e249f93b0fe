"""The Pyramid adapter passes wsgihub's adapter conformance suite (wsgihub.testing.conformance)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory
from pyramid.threadlocal import get_current_request

from wsgihub.testing.conformance import AdapterConformance, RouteCase


def make_app() -> Any:
    """A Pyramid app with a cookie session, ``home``, a GET-only ``user`` and a POST ``user_edit``."""
    config = Configurator()
    config.include("wsgihub_pyramid")
    config.set_session_factory(SignedCookieSessionFactory("conformance-secret"))
    config.add_route("home", "/")
    config.add_route("user", "/users/{uid}", request_method="GET")
    config.add_route("user_edit", "/users/{uid}/edit")
    config.add_view(lambda request: Response("home"), route_name="home")
    config.add_view(lambda request: Response(f"user {request.matchdict['uid']}"), route_name="user")
    config.add_view(lambda request: Response("edit"), route_name="user_edit", request_method="POST")
    return config.make_wsgi_app()


class TestPyramidConformance(AdapterConformance):
    """Pyramid route patterns have no converters: every value builds (no ``bad`` case)."""

    framework = "pyramid"
    route = RouteCase(
        endpoint="user",
        rule="/users/{uid}",
        values={"uid": 5},
        path="/users/5",
        missing="uid",
        bad=None,
        methods=frozenset({"GET", "HEAD"}),
    )
    cookies = frozenset({"session"})
    refuses_untrusted_hosts = True  # wsgihub_pyramid.hosts answers them 400

    def make_app(self) -> Any:
        return make_app()

    def framework_state(self) -> object:
        """Pyramid's thread-local current request."""
        return get_current_request()
