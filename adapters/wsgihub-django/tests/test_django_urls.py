"""URL building, route listing and matching for a Django mount."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.test import override_settings
from django.urls import get_script_prefix, reverse, set_script_prefix, set_urlconf
from djsite_flask_new import create_app
from djsite_testing import make_hub
from webtest import TestApp

import wsgihub
from wsgihub.errors import UnknownEndpointError, URLBuildError


@pytest.fixture(autouse=True)
def _thread_prefix() -> Any:
    """Leave the test thread's script prefix as each test found it."""
    before = get_script_prefix()
    yield
    set_script_prefix(before)


# -- building ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "values", "url"),
    [
        ("legacy:home", {}, "/legacy/"),
        ("root:home", {}, "/"),
        ("root:blog:detail", {"pk": 3}, "/blog/3/"),
        ("legacy:blog:detail", {"pk": 3}, "/legacy/blog/3/"),
        ("legacy2:blog:detail", {"pk": 3}, "/legacy2/blog/3/"),
        # the same name on two patterns: the one that takes the values wins
        ("legacy:blog:detail", {"pk": 3, "slug": "hello"}, "/legacy/blog/3/hello/"),
        # nested namespaces, instance namespace, app namespace -> default instance
        ("legacy:blog:tags:tag", {"tag": "py"}, "/legacy/blog/tags/py/"),
        ("legacy:news:detail", {"pk": 3}, "/legacy/news/3/"),
        # regex pattern with a named group
        ("legacy:archive", {"year": 2024}, "/legacy/archive/2024/"),
        # values the pattern does not take become the query; None values are left out
        ("legacy:blog:detail", {"pk": 3, "page": 2}, "/legacy/blog/3/?page=2"),
        (
            "legacy:blog:detail",
            {"pk": 3, "page": 2, "q": "a b&c", "none": None},
            "/legacy/blog/3/?page=2&q=a+b%26c",
        ),
        (
            "legacy:blog:detail",
            {"pk": 3, "slug": "s", "tag": ["a", "b"]},
            "/legacy/blog/3/s/?tag=a&tag=b",
        ),
        ("legacy:home", {"next": "/new/users/5"}, "/legacy/?next=%2Fnew%2Fusers%2F5"),
    ],
)
def test_build(hub: wsgihub.Hub, endpoint: str, values: dict[str, Any], url: str) -> None:
    assert hub.url_for(endpoint, **values) == url


def test_build_matches_django_reverse_under_the_same_prefix(hub: wsgihub.Hub) -> None:
    set_script_prefix("/legacy/")
    for name, kwargs in [
        ("blog:detail", {"pk": 9}),
        ("blog:tags:tag", {"tag": "x"}),
        ("archive", {"year": 1999}),
    ]:
        assert hub.url_for(f"legacy:{name}", **kwargs) == reverse(name, kwargs=kwargs)


def test_external_anchor_and_method(hub: wsgihub.Hub) -> None:
    public = make_hub(public_url="https://example.com/site")
    public.mount("/legacy", hub.peg("legacy").app, name="legacy")
    assert public.url_for("legacy:blog:detail", pk=3) == "/site/legacy/blog/3/"
    assert (
        public.url_for("legacy:blog:detail", pk=3, _external=True)
        == "https://example.com/site/legacy/blog/3/"
    )
    assert (
        public.url_for("legacy:home", _external=True, _scheme="http", _anchor="top")
        == "http://example.com/site/legacy/#top"
    )
    # Django routes carry no methods: _method changes nothing
    assert public.url_for("legacy:blog:detail", pk=3, _method="POST") == "/site/legacy/blog/3/"


def test_external_uses_the_trusted_request_host(hub: wsgihub.Hub) -> None:
    seen: dict[str, str] = {}

    def view(environ: Any, start_response: Any) -> Any:
        seen["url"] = wsgihub.url_for("legacy:blog:detail", pk=2, _external=True)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    hub.mount("/probe", view, name="probe")
    TestApp(hub, extra_environ={"HTTP_HOST": "example.com"}).get("/probe/")
    assert seen["url"] == "http://example.com/legacy/blog/2/"
    TestApp(hub, extra_environ={"HTTP_HOST": "example.com", "wsgi.url_scheme": "https"}).get(
        "/probe/"
    )
    assert seen["url"] == "https://example.com/legacy/blog/2/"


@pytest.mark.parametrize(
    ("endpoint", "values", "error", "message"),
    [
        (
            "legacy:blog:detial",
            {"pk": 1},
            UnknownEndpointError,
            (
                "cannot build 'legacy:blog:detial': the django app has no URL named 'blog:detial' "
                "(did you mean 'blog:detail'"
            ),
        ),
        ("legacy:nope:home", {}, UnknownEndpointError, "has no URL named 'nope:home'"),
        (
            "legacy:blog:detail",
            {},
            URLBuildError,
            "cannot build 'legacy:blog:detail': missing value(s) pk for 'blog/<int:pk>/'",
        ),
        (
            "legacy:blog:detail",
            {"pk": "abc"},
            URLBuildError,
            "cannot build 'legacy:blog:detail': the values do not fit 'blog/<int:pk>/' (given: pk='abc')",
        ),
        (
            "legacy:archive",
            {"year": 12},
            URLBuildError,
            "the values do not fit 'archive/(?P<year>[0-9]{4})/'",
        ),
        ("legacy:positional", {}, URLBuildError, "has unnamed groups"),
    ],
)
def test_build_errors_are_one_line(
    hub: wsgihub.Hub, endpoint: str, values: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        hub.url_for(endpoint, **values)
    assert type(info.value) is error
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.endpoint == endpoint  # type: ignore[attr-defined]


def test_partyline_url_service(hub: wsgihub.Hub) -> None:
    answers = hub.partyline.ask_around(
        "url", {"endpoint": "legacy:blog:detail", "values": {"pk": 5}}
    )
    assert answers == ["/legacy/blog/5/"]
    assert hub.partyline.ask_around("url", "legacy2:home") == ["/legacy2/"]


# -- the script prefix never leaks ------------------------------------------------------


def test_build_leaves_the_thread_prefix_alone(hub: wsgihub.Hub) -> None:
    set_script_prefix("/elsewhere/")
    assert hub.url_for("legacy:blog:detail", pk=1) == "/legacy/blog/1/"
    assert get_script_prefix() == "/elsewhere/"
    with pytest.raises(URLBuildError):
        hub.url_for("legacy:blog:detail", pk="x")
    assert get_script_prefix() == "/elsewhere/"
    assert reverse("home") == "/elsewhere/"


def test_the_try_finally_fallback_restores_the_prefix_too() -> None:
    """Used where Django's script prefix does not live in contextvars (another asgiref)."""
    from django.urls import NoReverseMatch
    from wsgihub_django.context import _reverse_restoring

    set_script_prefix("/elsewhere/")
    assert _reverse_restoring(
        "/legacy/", "djsite_legacy.urls", "blog:detail", {"pk": 1}, {"a": 1}
    ) == ("/legacy/blog/1/?a=1")
    assert get_script_prefix() == "/elsewhere/"
    with pytest.raises(NoReverseMatch):
        _reverse_restoring("/legacy/", "djsite_legacy.urls", "blog:detail", {"pk": "x"})
    assert get_script_prefix() == "/elsewhere/"


def test_cross_app_builds_inside_requests_leave_the_prefix_alone(hub: wsgihub.Hub) -> None:
    app = TestApp(hub)
    # Flask view builds legacy:blog:detail and checks the prefix it saw before and after
    assert app.get("/new/post/4").text == "/legacy/blog/4/ True"
    # a Django request at /legacy2 leaves its prefix set (Django never resets it) ...
    assert app.get("/legacy2/prefix/").text == "/legacy2/ /legacy2/"
    # ... and a build for another mount afterwards neither uses nor changes it
    assert hub.url_for("legacy:home") == "/legacy/"
    assert get_script_prefix() == "/legacy2/"
    # Django builds into Flask and into itself, at each of its prefixes
    assert app.get("/legacy/to-new/").text == "/new/users/5 /new/users/6 /legacy/blog/"
    assert app.get("/to-new/").text == "/new/users/5 /new/users/6 /blog/"


def test_concurrent_builds_with_different_prefixes_never_leak(hub: wsgihub.Hub) -> None:
    rounds = 300
    barrier = threading.Barrier(2)
    failures: list[str] = []

    def work(mount: str, own_prefix: str, expected: str) -> None:
        set_script_prefix(own_prefix)
        barrier.wait()
        for i in range(rounds):
            url = hub.url_for(f"{mount}:blog:detail", pk=i)
            if url != expected.format(i):
                failures.append(f"{mount}: {url}")
            if get_script_prefix() != own_prefix:
                failures.append(f"{mount}: thread prefix is now {get_script_prefix()!r}")
            if reverse("home") != own_prefix:
                failures.append(f"{mount}: reverse() sees {reverse('home')!r}")

    threads = [
        threading.Thread(target=work, args=("legacy", "/thread-a/", "/legacy/blog/{}/")),
        threading.Thread(target=work, args=("root", "/thread-b/", "/blog/{}/")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_builds_follow_root_urlconf_not_a_per_request_override(hub: wsgihub.Hub) -> None:
    set_script_prefix("/")
    set_urlconf("djsite_other.urls")  # what a middleware setting request.urlconf does
    try:
        assert reverse("home") == "/"  # Django's own reverse() follows the override ...
        assert (
            hub.url_for("legacy:blog:detail", pk=1) == "/legacy/blog/1/"
        )  # ... the hub the mount's URL conf
    finally:
        set_urlconf(None)


def test_url_conf_changes_are_followed(hub: wsgihub.Hub) -> None:
    assert hub.url_for("legacy:blog:detail", pk=1) == "/legacy/blog/1/"
    with override_settings(ROOT_URLCONF="djsite_other.urls"):
        assert hub.url_for("legacy:home") == "/legacy/"
        with pytest.raises(UnknownEndpointError):
            hub.url_for("legacy:blog:detail", pk=1)
        assert [r.endpoint for r in hub.routes("legacy")] == ["home"]
    assert hub.url_for("legacy:blog:detail", pk=1) == "/legacy/blog/1/"


# -- routes -----------------------------------------------------------------------------


def test_routes(hub: wsgihub.Hub) -> None:
    routes = {(r.endpoint, r.rule) for r in hub.routes("legacy")}
    assert ("blog:detail", "/legacy/blog/<int:pk>/") in routes
    assert ("blog:detail", "/legacy/blog/<int:pk>/<slug:slug>/") in routes
    assert ("blog:tags:tag", "/legacy/blog/tags/<slug:tag>/") in routes
    assert ("news:detail", "/legacy/news/<int:pk>/") in routes
    assert ("archive", "/legacy/archive/(?P<year>[0-9]{4})/") in routes
    assert ("home", "/legacy/") in routes
    assert not any(rule == "/legacy/unnamed/" for _, rule in routes)  # unnamed: cannot be built
    assert {r.methods for r in hub.routes("legacy")} == {None}
    assert {r.framework for r in hub.routes("legacy")} == {"django"}
    assert ("home", "/") in {(r.endpoint, r.rule) for r in hub.routes("root")}


# -- matching (grafts) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "matched"),
    [
        ("/", True),
        ("", True),
        ("/blog/3/", True),
        ("/blog/3", True),  # APPEND_SLASH: Django answers with its redirect
        ("/unnamed/", True),
        ("/blog/x/", False),
        ("/users/5", False),
        ("/nothing/here/", False),
    ],
)
def test_match(hub: wsgihub.Hub, path: str, matched: bool) -> None:
    adapter = hub.peg("legacy").adapter
    assert adapter is not None
    assert adapter.match(path, "GET") is matched
    assert adapter.match(path, "DELETE") is matched  # the method does not matter to Django


def test_match_without_append_slash(hub: wsgihub.Hub) -> None:
    adapter = hub.peg("legacy").adapter
    assert adapter is not None
    with override_settings(APPEND_SLASH=False):
        assert adapter.match("/blog/3", "GET") is False
        assert adapter.match("/blog/3/", "GET") is True


def test_graft_django_over_flask(django_app: Any) -> None:
    site = make_hub()
    site.mount("/site", create_app(), name="site")
    site.graft(django_app, over="site", name="legacy")
    app = TestApp(site)
    assert app.get("/site/users/5").text == "user 5"  # Flask's route
    assert app.get("/site/blog/3/").text == "post 3"  # Django's route
    redirect = app.get("/site/blog/3", status=301)  # Django's APPEND_SLASH redirect
    assert redirect.headers["Location"] == "/site/blog/3/"
    assert site.url_for("legacy:blog:detail", pk=3) == "/site/blog/3/"
    assert ("legacy", "blog:detail", "/site/blog/<int:pk>/", True) in {
        (r.mount, r.endpoint, r.rule, r.grafted) for r in site.routes()
    }
