"""Detection, submounts, grafts, request context, native exposure, deploy, live server."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
import urllib.request

import pytest
import wsgihub_werkzeug.plugin
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.routing import Map, Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request

import wsgihub
from wsgihub.errors import MountError, UnknownEndpointError
from wsgihub.plugins import make_plugins


def plain_wsgi(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain " + environ["PATH_INFO"].encode()]


# -- detection ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrap",
    [
        lambda app: app,
        lambda app: SharedDataMiddleware(app, {}),
        lambda app: functools.partial(app),
        lambda app: functools.wraps(app)(lambda environ, start_response: app(environ, start_response)),
    ],
    ids=["bare", "SharedDataMiddleware", "partial", "__wrapped__"],
)
def test_detected_behind_middleware(make_hub, shop, wrap):
    hub = make_hub()
    peg = hub.mount("/shop", wrap(shop))
    assert peg.framework == "werkzeug"
    assert peg.adapter.app is shop
    assert hub.url_for("shop:item", id=1) == "/shop/items/1"
    assert Client(hub).get("/shop/items/1").text.startswith("shop item")


def test_a_plain_wsgi_app_is_not_claimed(make_hub):
    hub = make_hub()
    assert hub.mount("/", plain_wsgi).adapter is None


def test_forcing_werkzeug_on_an_app_without_url_map(make_hub):
    hub = make_hub()
    peg = hub.mount("/p", plain_wsgi, framework="werkzeug")
    assert peg.framework == "werkzeug"
    assert hub.routes("p") == []
    with pytest.raises(UnknownEndpointError, match="^cannot build 'p:index': the werkzeug app has no url_map"):
        hub.url_for("p:index")
    with hub.request_context("p", path="/x") as request:
        assert isinstance(request, Request)
        assert request.path == "/x" and request.script_root == "/p"


def test_forcing_another_framework_is_not_answered(make_hub, shop):
    hub = make_hub()
    with pytest.raises(MountError, match="no installed adapter handles framework 'flask'"):
        hub.mount("/shop", shop, framework="flask")


def test_plugin_import_does_not_import_werkzeug():
    code = textwrap.dedent(
        """
        import sys, wsgihub, wsgihub_werkzeug.plugin
        from wsgihub.plugins import make_plugins
        hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin]))
        hub.mount("/", lambda environ, start_response: [])
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("werkzeug", "flask")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_entry_point_plugin_is_loaded_by_default(shop):
    plugins = make_plugins()
    assert "werkzeug" in {info.name for info in plugins.info()}
    hub = wsgihub.Hub(plugins=plugins)
    assert hub.mount("/shop", shop).framework == "werkzeug"


# -- DispatcherMiddleware as submounts ----------------------------------------------------
def test_nested_dispatcher_middleware_becomes_mounts(make_hub, make_shop):
    root, shop, blog, deep = make_shop("root"), make_shop("shop"), make_shop("blog"), make_shop("deep")
    app = DispatcherMiddleware(root, {"/shop": shop, "/blog": DispatcherMiddleware(blog, {"/deep": deep})})
    hub = make_hub()
    hub.mount("/", app, name="site")
    assert sorted(peg.name for peg in hub.pegs()) == ["site", "site.blog", "site.blog.deep", "site.shop"]
    assert hub.url_for("site.shop:item", id=1) == "/shop/items/1"
    assert hub.url_for("site.blog.deep:item", id=2) == "/blog/deep/items/2"
    client = Client(hub)
    assert client.get("/blog/deep/items/2").text == "deep item {'id': 2}|/blog/deep/items/2"
    assert client.get("/blog/items/3").text == "blog item {'id': 3}|/blog/items/3"
    assert client.get("/items/4").text == "root item {'id': 4}|/items/4"
    assert (root.calls, shop.calls, blog.calls, deep.calls) == (1, 0, 1, 1)


# -- grafts ------------------------------------------------------------------------
def test_graft_is_route_and_method_aware(make_hub, make_shop):
    base, graft = make_shop("base"), make_shop("graft")
    graft.url_map = Map([Rule("/items/<int:id>", endpoint="item", methods=["GET"]), Rule("/new/", endpoint="index")])
    hub = make_hub()
    hub.mount("/", base, name="legacy")
    hub.graft(graft, over="legacy", name="reports")
    client = Client(hub)
    assert client.get("/items/5").text.startswith("graft item")
    assert (base.calls, graft.calls) == (0, 1)
    assert client.post("/items/").text.startswith("base add_item")  # graft has no such path
    assert (base.calls, graft.calls) == (1, 1)
    assert client.post("/items/5").status_code == 405  # GET-only in the graft: the base answers
    assert (base.calls, graft.calls) == (2, 1)
    assert client.get("/new").status_code == 308  # strict slashes: the graft owns /new
    assert (base.calls, graft.calls) == (2, 2)
    assert hub.url_for("reports:index") == "/new/"
    grafted = [r for r in hub.routes() if r.grafted]
    assert {r.endpoint for r in grafted} == {"item", "index"}


# -- request context and native exposure ----------------------------------------------
def test_request_context_enters_as_a_hub_request(make_hub, shop, make_shop):
    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/shop", shop)
    hub.mount("/other", make_shop("other"))
    with hub.request_context("shop", path="/items/2") as request:
        assert request.path == "/items/2"
        assert request.url == "http://localhost/shop/items/2"
        assert request.hub is hub
        assert request.hub_url("other:item", id=9) == "/other/items/9"
        assert wsgihub.url_for("shop:index") == "/shop/"
    assert wsgihub.current_hub() is None


def test_request_context_uses_the_apps_request_class(make_hub, shop):
    class ShopRequest(Request):
        marker = "mine"

    shop.request_class = ShopRequest
    hub = make_hub()
    hub.mount("/shop", shop)
    with hub.request_context("shop") as request:
        assert type(request) is ShopRequest


def test_jinja_env_gets_hub_url_and_loses_it_on_unmount(make_hub, shop, make_shop):
    jinja2 = pytest.importorskip("jinja2")  # not a Werkzeug dependency
    shop.jinja_env = jinja2.Environment()
    template = shop.jinja_env.from_string('<a href="{{ hub_url("blog:item", id=3) }}">')
    shop.on_index = lambda request: template.render()
    hub = make_hub()
    hub.mount("/shop", shop)
    hub.mount("/blog", make_shop("blog"))
    assert Client(hub).get("/shop/").text == 'shop index {}|<a href="/blog/items/3">'
    assert template.render() == '<a href="/blog/items/3">'  # outside requests: the mounting hub
    hub.unmount("shop")
    assert "hub_url" not in shop.jinja_env.globals


# -- deploy and live server --------------------------------------------------------
def test_paste_deploy_app_factory(tmp_path, monkeypatch):
    from paste.deploy import loadapp

    (tmp_path / "shopsite.py").write_text(
        textwrap.dedent(
            """
            from werkzeug.routing import Map, Rule
            from werkzeug.wrappers import Response

            class Site:
                def __init__(self, greeting):
                    self.greeting = greeting
                    self.url_map = Map([Rule("/hello", endpoint="hello")])
                def __call__(self, environ, start_response):
                    return Response(self.greeting)(environ, start_response)

            def create(greeting="hi"):
                return Site(greeting)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ini = tmp_path / "site.ini"
    ini.write_text("[app:main]\nuse = egg:wsgihub-werkzeug#app\nfactory = shopsite:create\ngreeting = bonjour\n")
    app = loadapp(f"config:{ini}")
    hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin]))
    hub.mount("/s", app)
    assert hub.url_for("s:hello") == "/s/hello"
    assert Client(hub).get("/s/hello").text == "bonjour"
    bad = tmp_path / "bad.ini"
    bad.write_text("[app:main]\nuse = egg:wsgihub-werkzeug#app\napp = shopsite:nothing\n")
    with pytest.raises(wsgihub.WsgihubError, match=r"bad.ini: app: 'shopsite:nothing': module 'shopsite' has no attribute 'nothing'"):
        loadapp(f"config:{bad}")


@pytest.mark.live
def test_waitress_round_trip(make_hub, shop, make_shop, serve):
    hub = make_hub()
    hub.mount("/shop", shop)
    hub.mount("/", make_shop("home"))
    shop.on_index = lambda request: wsgihub.url_for("root:item", id=1)
    base = serve(hub)
    with urllib.request.urlopen(base + "/shop/") as response:
        assert response.read().decode() == "shop index {}|/items/1"
    with urllib.request.urlopen(base + "/items/1") as response:
        assert response.read().decode() == "home item {'id': 1}|/items/1"
