"""URL building and routes of plain Werkzeug apps, through the hub's public API."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

import wsgihub
from wsgihub.errors import UnknownEndpointError, UntrustedHostError, URLBuildError


def test_routes_are_listed_with_prefix_and_methods(make_hub, shop):
    hub = make_hub()
    hub.mount("/shop", shop)
    routes = {(r.endpoint, r.rule): r for r in hub.routes("shop")}
    assert routes[("item", "/shop/items/<int:id>")].methods == frozenset({"GET", "HEAD"})
    assert routes[("index", "/shop/")].methods is None  # a rule without methods takes any
    assert routes[("about_view", "/shop/about")].framework == "werkzeug"
    assert {r.endpoint for r in routes.values()} >= {"items", "add_item", "edit", "files"}


def test_relative_urls_get_the_mount_prefix_and_query_args(make_hub, shop):
    hub = make_hub()
    hub.mount("/shop", shop)
    assert hub.url_for("shop:item", id=3) == "/shop/items/3"
    assert hub.url_for("shop:index") == "/shop/"
    assert hub.url_for("shop:item", id=3, ref="mail", n=2) == "/shop/items/3?ref=mail&n=2"
    assert hub.url_for("shop:files", name="a b/c.txt") == "/shop/files/a%20b/c.txt"
    assert hub.url_for("shop:item", id=3, _anchor="top") == "/shop/items/3#top"


def test_method_picks_the_rule(make_hub, shop):
    hub = make_hub()
    hub.mount("/shop", shop)
    assert hub.url_for("shop:items") == "/shop/items/"
    assert hub.url_for("shop:add_item", _method="POST") == "/shop/items/"
    assert hub.url_for("shop:edit", id=1, _method="POST") == "/shop/edit/1"
    with pytest.raises(URLBuildError, match=r"'shop:item': no rule for method 'POST' \(methods: GET, HEAD\)"):
        hub.url_for("shop:item", id=1, _method="POST")


def test_view_function_endpoints_are_named_by_their_name(make_hub, shop):
    hub = make_hub()
    hub.mount("/", shop)
    assert hub.url_for("root:about_view") == "/about"


def test_unknown_endpoint_names_the_closest(make_hub, shop):
    hub = make_hub()
    hub.mount("/shop", shop)
    with pytest.raises(UnknownEndpointError) as info:
        hub.url_for("shop:itme", id=1)
    message = str(info.value)
    assert "\n" not in message
    assert "'shop:itme'" in message and "did you mean 'item'" in message
    assert info.value.endpoint == "shop:itme"


def test_missing_and_bad_values_are_one_line_errors(make_hub, shop):
    hub = make_hub()
    hub.mount("/shop", shop)
    with pytest.raises(URLBuildError, match=r"^cannot build 'shop:item': rule '/items/<int:id>' needs 'id' \(given: ref\)$"):
        hub.url_for("shop:item", ref="x")
    with pytest.raises(URLBuildError, match=r"^cannot build 'shop:item': bad value: invalid literal"):
        hub.url_for("shop:item", id="three")


def test_urls_built_inside_the_apps_own_request_match_its_own(make_hub, shop):
    """The hub and the app's own ``bind_to_environ`` agree, under any hub root."""
    hub = make_hub()
    hub.mount("/shop", shop)
    body = Client(hub).get("/shop/items/7").text
    assert body == "shop item {'id': 7}|/shop/items/7"
    shop.on_index = lambda request: wsgihub.url_for("shop:item", id=7)
    # the hub itself mounted at /site by the server
    body = Client(hub).get("/shop/", base_url="http://localhost/site").text
    assert body == "shop index {}|/site/shop/items/7"


def test_external_urls_need_a_trusted_host(make_hub, shop):
    hub = make_hub(trusted_hosts=["example.com", ".example.org"])
    hub.mount("/shop", shop)
    shop.on_index = lambda request: wsgihub.url_for("shop:item", id=1, _external=True)
    client = Client(hub)
    assert client.get("/shop/", headers={"Host": "example.com"}).text.endswith("|http://example.com/shop/items/1")
    https = client.get("/shop/", headers={"Host": "a.example.org:8443"}, base_url="https://a.example.org:8443")
    assert https.text.endswith("|https://a.example.org:8443/shop/items/1")
    # the relative-URL cache is never keyed by host: a second host gets its own URL
    assert client.get("/shop/", headers={"Host": "example.com"}).text.endswith("|http://example.com/shop/items/1")
    # an untrusted Host never reaches the app: 400 before it runs (test_werkzeug_hosts.py)
    calls = shop.calls
    assert client.get("/shop/", headers={"Host": "evil.test"}).status_code == 400
    assert shop.calls == calls
    with pytest.raises(UntrustedHostError, match="'evil.test' is not in trusted_hosts"):
        hub.origin({"HTTP_HOST": "evil.test", "wsgi.url_scheme": "http"})


def test_external_urls_for_a_trusted_ipv6_literal(make_hub, shop):
    """The hub compares IPv6 addresses, not spellings, and writes them in canonical form."""
    hub = make_hub(trusted_hosts=["[::1]", "[2001:DB8::1]"])
    hub.mount("/shop", shop)
    shop.on_index = lambda request: wsgihub.url_for("shop:item", id=1, _external=True)
    client = Client(hub)
    for host, url in [
        ("[::1]", "http://[::1]/shop/items/1"),
        ("[::1]:8080", "http://[::1]:8080/shop/items/1"),
        ("[0:0::1]:8080", "http://[::1]:8080/shop/items/1"),
        ("[2001:db8::1]", "http://[2001:db8::1]/shop/items/1"),
    ]:
        assert client.get("/shop/", headers={"Host": host}).text.endswith("|" + url), host
    assert client.get("/shop/", headers={"Host": "[::2]"}).status_code == 400  # before the app runs


def test_public_url_outside_requests(make_hub, shop):
    hub = make_hub(public_url="https://shop.example.net/base/")
    hub.mount("/shop", shop)
    assert hub.url_for("shop:item", id=2) == "/base/shop/items/2"
    assert hub.url_for("shop:item", id=2, _external=True) == "https://shop.example.net/base/shop/items/2"
    without = make_hub()
    without.mount("/shop", shop)
    with pytest.raises(UntrustedHostError, match="outside a request"):
        without.url_for("shop:item", id=2, _external=True)


def test_relative_url_cache_is_bounded(make_hub, shop):
    """``script_name`` can come from a proxy header: the cache must not grow without end."""
    from wsgihub_werkzeug.urls import BOUND_CACHE_SIZE

    hub = make_hub()
    peg = hub.mount("/shop", shop)
    shop.on_index = lambda request: wsgihub.url_for("shop:index")
    client = Client(hub)
    for i in range(BOUND_CACHE_SIZE + 20):
        assert client.get("/shop/", base_url=f"http://localhost/p{i}").text.endswith(f"|/p{i}/shop/")
    assert len(peg.adapter.urls.bound) <= BOUND_CACHE_SIZE


def test_partyline_url_service_answers_for_the_app(make_hub, shop, make_shop):
    hub = make_hub()
    hub.mount("/shop", shop)
    hub.mount("/other", make_shop("other"))
    other = hub.peg("other").operator
    assert other.ask_around("url", "shop:item") == []  # missing id: the shop is high and dry
    assert other.ask_around("url", {"endpoint": "shop:item", "values": {"id": 4}}) == ["/shop/items/4"]
