"""Routes and URL building for Pyramid mounts."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from webtest import TestApp

import wsgihub
from wsgihub.errors import UnknownEndpointError, UntrustedHostError, URLBuildError


@pytest.fixture
def api(hub: wsgihub.Hub, make_pyramid: Any) -> wsgihub.Hub:
    def setup(config: Configurator) -> None:
        config.add_route("search", "/search/{kind}/{q:[a-z]+}", request_method=("GET", "POST"))
        config.add_route("legacy_style", "/old/:year")
        config.add_route("youtube", "https://youtube.com/watch/{video_id}")
        config.add_route("cdn", "//cdn.example.com/{name}")
        config.add_route("elsewhere", "/served/by/the/front/{x}", static=True)

    hub.mount("/api", make_pyramid(setup))
    return hub


def route_table(hub: wsgihub.Hub) -> dict[str, tuple[str, frozenset[str] | None]]:
    return {r.endpoint: (r.rule, r.methods) for r in hub.routes("api")}  # type: ignore[misc]


def test_routes_have_rules_methods_and_the_mount_prefix(api: wsgihub.Hub) -> None:
    table = route_table(api)
    assert table["home"] == ("/api/", None)
    # the route's request_method predicate; Pyramid adds HEAD to GET
    assert table["user"] == ("/api/users/{uid}", frozenset({"GET", "HEAD"}))
    # no route predicate, but its only view takes POST: Pyramid 404s the rest
    assert table["user_edit"] == ("/api/users/{uid}/edit", frozenset({"POST"}))
    assert table["search"] == ("/api/search/{kind}/{q:[a-z]+}", frozenset({"GET", "HEAD", "POST"}))
    assert table["files"] == ("/api/files/*path", None)
    assert all(r.framework == "pyramid" for r in api.routes("api"))


def test_static_views_and_generation_only_routes_are_listed_external_ones_not(
    api: wsgihub.Hub,
) -> None:
    table = route_table(api)
    assert table["__static/"] == ("/api/static/*subpath", None)
    assert table["elsewhere"] == ("/api/served/by/the/front/{x}", None)
    assert "youtube" not in table


def test_relative_urls(api: wsgihub.Hub) -> None:
    assert api.url_for("api:home") == "/api/"
    assert api.url_for("api:user", uid=5) == "/api/users/5"
    assert api.url_for("api:search", kind="a b", q="x") == "/api/search/a%20b/x"
    assert api.url_for("api:legacy_style", year=2024) == "/api/old/2024"
    assert api.url_for("api:files", path=("a", "b c")) == "/api/files/a/b%20c"
    assert api.url_for("api:elsewhere", x=1) == "/api/served/by/the/front/1"


def test_absolute_urls_use_the_public_url(make_pyramid: Any) -> None:
    hub = wsgihub.Hub(public_url="https://example.com/site")
    hub.mount("/api", make_pyramid())
    assert hub.url_for("api:user", uid=5, _external=True) == "https://example.com/site/api/users/5"
    assert hub.url_for("api:user", uid=5) == "/site/api/users/5"
    assert (
        hub.url_for("api:user", uid=5, _external=True, _anchor="top")
        == "https://example.com/site/api/users/5#top"
    )


def test_absolute_urls_outside_requests_need_a_public_url(api: wsgihub.Hub) -> None:
    with pytest.raises(UntrustedHostError):
        api.url_for("api:user", uid=5, _external=True)


def test_values_the_pattern_does_not_take_become_query_arguments(api: wsgihub.Hub) -> None:
    assert api.url_for("api:user", uid=5, page=2, q="a b") == "/api/users/5?page=2&q=a+b"
    assert api.url_for("api:home", tag=["x", "y"]) == "/api/?tag=x&tag=y"
    # Pyramid's own _query is merged after them; _elements are path elements
    assert (
        api.url_for("api:user", uid=5, page=2, _query={"sort": "name"})
        == "/api/users/5?page=2&sort=name"
    )
    assert api.url_for("api:user", uid=5, _query="raw query") == "/api/users/5?raw%20query"
    assert api.url_for("api:user", uid=5, _elements=("edit", "now")) == "/api/users/5/edit/now"


def test_method_is_ignored(api: wsgihub.Hub) -> None:
    assert api.url_for("api:user", uid=5, _method="POST") == "/api/users/5"


def test_reserved_route_url_arguments_are_refused(api: wsgihub.Hub) -> None:
    with pytest.raises(URLBuildError, match=r"'api:user'.*_host"):
        api.url_for("api:user", uid=5, _host="evil.example")


def test_external_routes_build_on_their_own_site(api: wsgihub.Hub) -> None:
    assert api.url_for("api:youtube", video_id="abc") == "https://youtube.com/watch/abc"
    assert api.url_for("api:youtube", video_id="abc", t=3) == "https://youtube.com/watch/abc?t=3"
    assert api.url_for("api:cdn", name="x.js") == "http://cdn.example.com/x.js"


def test_scheme_relative_external_routes_take_the_request_scheme(api: wsgihub.Hub) -> None:
    with api.request_context("api", {"wsgi.url_scheme": "https", "HTTP_HOST": "example.com"}):
        assert api.url_for("api:cdn", name="x.js") == "https://cdn.example.com/x.js"


def test_static_views_build_by_route_name_and_by_asset_spec(api: wsgihub.Hub) -> None:
    assert api.url_for("api:__static/", subpath="css/app.css") == "/api/static/css/app.css"
    assert api.url_for("api:pyramid:scripts/pserve.py") == "/api/static/pserve.py"
    assert api.url_for("api:pyramid:scripts/pserve.py", v=3) == "/api/static/pserve.py?v=3"
    with pytest.raises(UnknownEndpointError, match="otherpkg:x.css"):
        api.url_for("api:otherpkg:x.css")


def test_unknown_endpoint_names_it_and_the_closest_routes(api: wsgihub.Hub) -> None:
    with pytest.raises(UnknownEndpointError) as info:
        api.url_for("api:usr", uid=5)
    message = str(info.value)
    assert "'api:usr'" in message and "'user'" in message
    assert "\n" not in message
    assert info.value.endpoint == "api:usr"


def test_missing_values_name_the_endpoint_and_the_value(api: wsgihub.Hub) -> None:
    with pytest.raises(URLBuildError) as info:
        api.url_for("api:search", kind="x")
    assert not isinstance(info.value, UnknownEndpointError)
    assert "'api:search'" in str(info.value) and "'q'" in str(info.value)


def test_pregenerators_run(hub: wsgihub.Hub) -> None:
    def setup_lang(request: Any, elements: Any, kw: dict[str, Any]) -> Any:
        kw.setdefault("lang", "en")
        return elements, kw

    config = Configurator()
    config.add_route("page", "/{lang}/page/{name}", pregenerator=setup_lang)
    hub.mount("/p", config.make_wsgi_app())
    assert hub.url_for("p:page", name="about") == "/p/en/page/about"
    assert hub.url_for("p:page", name="about", lang="fr", x=1) == "/p/fr/page/about?x=1"


def test_the_url_service_answers_on_the_partyline(api: wsgihub.Hub, make_flask: Any) -> None:
    api.mount("/new", make_flask())
    answers = api.partyline.ask_around("url", {"endpoint": "api:user", "values": {"uid": 9}})
    assert answers == ["/api/users/9"]


def test_urls_from_inside_a_request_use_its_trusted_host_and_scheme(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    def where(request: Any) -> Response:
        try:
            return Response(wsgihub.url_for("api:user", uid=1, _external=True))
        except UntrustedHostError:
            return Response("refused")

    def setup(config: Configurator) -> None:
        config.add_route("where", "/where")
        config.add_view(where, route_name="where")

    hub.mount("/api", make_pyramid(setup))
    client = TestApp(hub)
    assert (
        client.get("/api/where", extra_environ={"HTTP_HOST": "example.com"}).text
        == "http://example.com/api/users/1"
    )
    assert (
        client.get(
            "/api/where", extra_environ={"HTTP_HOST": "example.com", "wsgi.url_scheme": "https"}
        ).text
        == "https://example.com/api/users/1"
    )
    # an untrusted Host never makes it into a URL (refused before the view: wsgihub_pyramid.hosts;
    # inside a request_context the hub refuses it: the conformance suite), and nothing cached it
    refused = client.get("/api/where", extra_environ={"HTTP_HOST": "evil.example"}, expect_errors=True)
    assert (refused.status_int, refused.text) == (400, "Bad Request: untrusted Host\n")
    assert (
        client.get("/api/where", extra_environ={"HTTP_HOST": "example.com"}).text
        == "http://example.com/api/users/1"
    )


def test_routes_added_after_mounting_are_seen(hub: wsgihub.Hub) -> None:
    config = Configurator()
    config.add_route("a", "/a")
    hub.mount("/late", config.make_wsgi_app())
    with pytest.raises(UnknownEndpointError):
        hub.url_for("late:b")
    config.add_route("b", "/b/{x}")
    config.commit()
    assert hub.url_for("late:b", x=1) == "/late/b/1"
    assert "b" in {r.endpoint for r in hub.routes("late")}


def test_a_traversal_only_app_lists_no_routes_and_builds_nothing(hub: wsgihub.Hub) -> None:
    config = Configurator()
    config.add_view(lambda request: Response("root"))
    hub.mount("/t", config.make_wsgi_app())
    assert hub.routes("t") == []
    with pytest.raises(UnknownEndpointError, match="'t:home'"):
        hub.url_for("t:home")
    with pytest.raises(UnknownEndpointError, match="'t:pkg:static/x.css'"):
        hub.url_for("t:pkg:static/x.css")
    assert TestApp(hub).get("/t/").text == "root"


def test_a_pregenerator_that_refuses_is_a_build_error(hub: wsgihub.Hub) -> None:
    def refuse(request: Any, elements: Any, kw: dict[str, Any]) -> Any:
        raise ValueError("no pages on Sundays")

    config = Configurator()
    config.add_route("page", "/page/{name}", pregenerator=refuse)
    hub.mount("/p", config.make_wsgi_app())
    with pytest.raises(URLBuildError, match="'p:page': no pages on Sundays"):
        hub.url_for("p:page", name="x")
