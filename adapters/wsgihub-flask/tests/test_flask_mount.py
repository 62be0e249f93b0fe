"""Detection, request context, cookies and checks, grafts, lifecycle, deploy, live server."""

from __future__ import annotations

import functools
import http.cookiejar
import subprocess
import sys
import textwrap
import urllib.request
import warnings

import flask
import pytest
import wsgihub_flask.plugin
import wsgihub_werkzeug.plugin
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client

import wsgihub
from wsgihub.errors import MountError
from wsgihub.plugins import make_plugins


class Counting:
    """A middleware with ``.app`` that counts the requests it passes on."""

    def __init__(self, app):
        self.app = app
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


# -- detection ----------------------------------------------------------------------
def _proxy_fixed_app(app):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
    return app


@pytest.mark.parametrize(
    "wrap",
    [
        lambda app: app,
        functools.partial,
        Counting,
        lambda app: app.wsgi_app,
        lambda app: ProxyFix(app.wsgi_app, x_proto=1),
        _proxy_fixed_app,
    ],
    ids=["bare", "partial", "wrapper.app", "bound-wsgi_app", "ProxyFix(app.wsgi_app)", "app.wsgi_app=ProxyFix"],
)
def test_detected_behind_middleware(make_hub, flask_app, wrap):
    app = flask_app("b")
    hub = make_hub()
    peg = hub.mount("/new", wrap(app))
    assert peg.framework == "flask"
    assert peg.adapter.app is app
    assert hub.url_for("new:user", uid=1) == "/new/users/1"
    assert Client(hub).get("/new/users/1").text == "b user 1 /new/users/1"


def test_flask_wins_over_the_generic_werkzeug_adapter_in_any_order(flask_app):
    for order in ([wsgihub_flask.plugin, wsgihub_werkzeug.plugin], [wsgihub_werkzeug.plugin, wsgihub_flask.plugin]):
        hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=order))
        assert hub.mount("/", flask_app("a")).framework == "flask"


def test_framework_forcing(make_hub, flask_app, shop):
    hub = make_hub()
    assert hub.mount("/w", flask_app("a"), framework="werkzeug").framework == "werkzeug"
    assert hub.url_for("w:user", uid=1) == "/w/users/1"
    with pytest.raises(MountError, match="no installed adapter handles framework 'flask'"):
        hub.mount("/shop", shop, framework="flask")
    assert "shop" not in hub


def test_plugin_import_does_not_import_flask():
    code = textwrap.dedent(
        """
        import sys, wsgihub, wsgihub_flask.plugin, wsgihub_werkzeug.plugin
        from wsgihub.plugins import make_plugins
        plugins = make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin, wsgihub_flask.plugin])
        wsgihub.Hub(plugins=plugins).mount("/", lambda environ, start_response: [])
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("werkzeug", "flask", "jinja2")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_entry_point_plugins_are_loaded_by_default(flask_app):
    plugins = make_plugins()
    assert {"flask", "werkzeug"} <= {info.name for info in plugins.info()}
    assert wsgihub.Hub(plugins=plugins).mount("/", flask_app("a")).framework == "flask"
    blocked = make_plugins(block=["flask"])
    assert wsgihub.Hub(plugins=blocked).mount("/", flask_app("a")).framework == "werkzeug"


# -- request context ----------------------------------------------------------------
def test_request_context_gives_flask_its_helpers(make_hub, flask_app):
    a, b = flask_app("a"), flask_app("b")
    hub = make_hub()
    hub.mount("/", a)
    hub.mount("/new", b)
    with hub.request_context("new", path="/users/3") as request:
        assert flask.request._get_current_object() is request
        assert flask.current_app._get_current_object() is b
        assert request.path == "/users/3" and request.script_root == "/new"
        flask.session["cart"] = [1, 2]
        flask.g.user = "ann"
        assert flask.session["cart"] == [1, 2] and flask.g.user == "ann"
        assert flask.url_for("user", uid=4) == "/new/users/4"
        assert wsgihub.url_for("root:user", uid=4) == "/users/4"
    assert not flask.has_request_context()
    assert b.teardowns == 1


def test_request_context_nested_in_another_apps_request(make_hub, flask_app):
    a, b = flask_app("a"), flask_app("b")

    @a.route("/peek")
    def peek() -> str:
        with hub.request_context("new") as inner:
            inner_url = flask.url_for("user", uid=1)
            inner_app = flask.current_app.name
            assert flask.request._get_current_object() is inner
        return f"{inner_app} {inner_url} | {flask.current_app.name} {flask.url_for('user', uid=1)}"

    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/", a)
    hub.mount("/new", b)
    assert Client(hub).get("/peek", headers={"Host": "example.com"}).text == "b /new/users/1 | a /users/1"
    assert (a.teardowns, b.teardowns) == (1, 1)


def test_request_context_pops_when_the_block_raises(make_hub, flask_app):
    b = flask_app("b")
    seen = []
    b.teardown_request(lambda exc: seen.append(exc))
    hub = make_hub()
    hub.mount("/new", b)
    with pytest.raises(KeyError), hub.request_context("new"):
        raise KeyError("boom")
    assert not flask.has_request_context()
    assert isinstance(seen[0], KeyError)


# -- cookies and checks ---------------------------------------------------------------
def test_session_cookie_collision_warns_naming_both_mounts(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/", flask_app("a", SESSION_COOKIE_NAME="session"), name="legacy")
    with pytest.warns(wsgihub.MountWarning) as caught:
        hub.mount("/new", flask_app("b", SESSION_COOKIE_NAME="session"))
    messages = [str(w.message) for w in caught]
    assert any(
        "'legacy'" in m and "'new'" in m and "cookie named 'session'" in m and "Path=/" in m for m in messages
    ), messages


def test_no_collision_warning_for_distinct_names_or_no_sessions(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/", flask_app("a", SESSION_COOKIE_NAME="session"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", wsgihub.MountWarning)
        hub.mount("/new", flask_app("b", SESSION_COOKIE_NAME="new_session"))
        hub.mount("/plain", flask_app("c", secret=None, SESSION_COOKIE_NAME="session"))  # sets no cookie
    assert hub.check() == []


def test_cookie_path_comes_from_flask_config_not_the_mount(make_hub, flask_app):
    """SESSION_COOKIE_PATH=/new does not help: the root app's Path=/ cookie reaches /new too."""
    hub = make_hub()
    hub.mount("/", flask_app("a", SESSION_COOKIE_NAME="session"))
    with pytest.warns(wsgihub.MountWarning, match=r"\(Path=/new and Path=/\)"):
        hub.mount("/new", flask_app("b", SESSION_COOKIE_NAME="session", SESSION_COOKIE_PATH="/new"))
    with pytest.warns(wsgihub.MountWarning) as caught:
        hub.mount("/other", flask_app("c", SESSION_COOKIE_NAME="session"))
    assert sorted(str(w.message).split(" both")[0] for w in caught) == [
        "mounts 'new' and 'other'",  # Path=/ reaches /new as well
        "mounts 'other' and 'root'",
    ]


def test_cookie_path_that_misses_the_mount_is_reported(make_hub, flask_app):
    hub = make_hub()
    with pytest.warns(wsgihub.MountWarning, match=r"mount 'new' \(flask\): the session cookie has Path=/app .* '/new'"):
        hub.mount("/new", flask_app("b", APPLICATION_ROOT="/app"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", wsgihub.MountWarning)
        hub.mount("/other", flask_app("c", APPLICATION_ROOT="/other"))


def test_session_survives_a_round_trip_below_a_prefix(make_hub, flask_app):
    b = flask_app("b")

    @b.route("/remember/<word>")
    def remember(word: str) -> str:
        flask.session["word"] = word
        return "ok"

    @b.route("/recall")
    def recall() -> str:
        return flask.session.get("word", "?")

    hub = make_hub()
    hub.mount("/new", b)
    client = Client(hub)
    assert client.get("/new/remember/kiwi").text == "ok"
    assert client.get_cookie("b_session").path == "/"  # Flask's default, not the mount
    assert client.get("/new/recall").text == "kiwi"


# -- grafts --------------------------------------------------------------------------
def test_flask_graft_over_a_werkzeug_app(make_hub, flask_app, shop):
    graft = flask_app("reports")
    hub = make_hub()
    hub.mount("/", shop, name="legacy")
    hub.graft(graft, over="legacy", name="reports")
    client = Client(hub)
    assert client.get("/reports/4").text == "reports report 4"
    assert (graft.calls, shop.calls) == (1, 0)
    assert client.post("/reports/4").text == "shop report {'rid': 4} POST"  # GET-only in the graft
    assert (graft.calls, shop.calls) == (1, 1)
    assert client.get("/items/2").text == "shop item {'id': 2} GET"
    assert (graft.calls, shop.calls) == (1, 2)
    assert client.get("/nowhere").status_code == 404
    assert (graft.calls, shop.calls) == (1, 3)
    assert hub.url_for("reports:report", rid=1) == "/reports/1"
    assert hub.url_for("legacy:item", id=1) == "/items/1"


def test_flask_graft_over_a_flask_app_counts_each_app_once(make_hub, flask_app):
    base = flask_app("legacy")
    base.add_url_rule("/only-legacy", endpoint="only", view_func=lambda: "legacy only")
    graft = flask.Flask("newer", static_folder=None)
    graft.calls = 0

    @graft.before_request
    def count() -> None:
        graft.calls += 1

    graft.add_url_rule("/users/<int:uid>", endpoint="user", view_func=lambda uid: f"newer user {uid}")
    graft.add_url_rule("/login", endpoint="login", view_func=lambda: "newer login", methods=["GET"])
    counter = Counting(graft)
    hub = make_hub()
    hub.mount("/", base)
    hub.graft(counter, over="root", name="newer")
    client = Client(hub)
    assert client.get("/users/9").text == "newer user 9"
    assert client.post("/login").text == "legacy login POST"
    assert client.get("/login").text == "newer login"
    assert client.get("/only-legacy").text == "legacy only"
    assert client.get("/users/9/").status_code == 404  # neither has it: the base answers once
    assert (counter.calls, graft.calls, base.calls) == (2, 2, 3)


# -- lifecycle, deploy, live server ---------------------------------------------------------
def test_hub_lifecycle_leaves_the_app_working(make_hub, flask_app):
    hub = make_hub()
    peg = hub.mount("/new", flask_app("b"))
    with hub.running():
        assert Client(hub).get("/new/").text == "b index"
    assert peg.adapter.app.jinja_env.globals["hub_url"]("new:index") == "/new/"
    assert not flask.has_request_context()


def test_paste_deploy_app_factory(tmp_path, monkeypatch, make_hub):
    from paste.deploy import loadapp

    (tmp_path / "newsite.py").write_text(
        textwrap.dedent(
            """
            import flask

            def create_app():
                app = flask.Flask("newsite")

                @app.route("/conf")
                def conf():
                    return f"{app.config['GREETING']} {app.config['LIMIT'] + 1} {app.config['FROM_FILE']}"

                return app
            """
        )
    )
    (tmp_path / "flask.cfg").write_text("FROM_FILE = 'file'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ini = tmp_path / "site.ini"
    ini.write_text(
        "[app:main]\nuse = egg:wsgihub-flask#app\napp = newsite:create_app\n"
        "config_file = flask.cfg\nGREETING = hello\nLIMIT = 41\nSECRET_KEY = s3\n"
    )
    app = loadapp(f"config:{ini}")
    assert isinstance(app, flask.Flask) and app.secret_key == "s3"
    hub = make_hub()
    hub.mount("/new", app)
    assert Client(hub).get("/new/conf").text == "hello 42 file"
    bad = tmp_path / "bad.ini"
    bad.write_text("[app:main]\nuse = egg:wsgihub-flask#app\napp = newsite:create_app\nsecret = x\n")
    with pytest.raises(wsgihub.WsgihubError, match=r"bad.ini: secret: unknown setting"):
        loadapp(f"config:{bad}")


@pytest.mark.live
def test_waitress_round_trip(make_hub, flask_app, shop, serve):
    a, b = flask_app("a"), flask_app("b")

    @b.route("/login-as/<name>")
    def login_as(name: str) -> flask.Response:
        flask.session["user"] = name
        return flask.redirect(wsgihub.url_for("root:whoami"))

    @a.route("/whoami", endpoint="whoami")
    def whoami() -> str:
        return f"{flask.session.get('user', 'nobody')} {wsgihub.url_for('new:login_as', name='x')}"

    a.config["SESSION_COOKIE_NAME"] = b.config["SESSION_COOKIE_NAME"] = "shared"
    b.secret_key = a.secret_key
    hub = make_hub()
    hub.mount("/", a)
    with pytest.warns(wsgihub.MountWarning):
        hub.mount("/new", b)  # one shared session cookie, on purpose: a single sign-on
    hub.mount("/shop", shop)
    base = serve(hub)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + "/new/login-as/ann") as response:
        assert response.url == base + "/whoami"
        assert response.read().decode() == "ann /new/login-as/x"
    with opener.open(base + "/shop/items/5") as response:
        assert response.read().decode() == "shop item {'id': 5} GET"


def test_a_grafts_static_route_hiding_the_base_is_reported(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/", flask_app("legacy"))
    with pytest.warns(wsgihub.MountWarning, match=r"graft 'newer' takes \d+ route\(s\) of 'root'"):
        hub.graft(flask_app("newer"), over="root", name="newer")
    taken = [f.message for f in hub.findings() if f.id == "W010"]
    assert "newer:static takes '/static/<path:filename>' from root:static; files it does not have fall through to root" in taken
    with warnings.catch_warnings():
        warnings.simplefilter("error", wsgihub.MountWarning)
        hub.graft(flask.Flask("assets", static_url_path="/assets"), over="root")
