"""URL building for Flask apps: across apps, inside and outside requests, Flask's semantics."""

from __future__ import annotations

import flask
import pytest
from werkzeug.test import Client
from wsgihub_flask.native import hub_url

import wsgihub
from wsgihub.errors import UnknownEndpointError, UntrustedHostError, URLBuildError


def test_inside_app_a_the_hub_builds_with_app_b_map(make_hub, flask_app):
    """The Flask trap: inside A's request, B's URLs must come from B's map and mount."""
    a, b = flask_app("a"), flask_app("b")

    @a.route("/cross")
    def cross() -> str:
        return " ".join(
            [
                wsgihub.url_for("new:index"),  # A has an 'index' too, at '/'
                wsgihub.url_for("new:user", uid=5),
                flask.url_for("index"),  # A's own url_for is untouched
                hub_url("new:report", rid=2),
            ]
        )

    hub = make_hub()
    hub.mount("/", a)
    hub.mount("/new", b)
    client = Client(hub)
    assert client.get("/cross").text == "/new/ /new/users/5 / /new/reports/2"
    # B's own url_for inside B's request
    assert client.get("/new/users/3").text == "b user 3 /new/users/3"
    assert client.get("/users/3").text == "a user 3 /users/3"


def test_flask_and_werkzeug_apps_build_each_others_urls(make_hub, flask_app, shop):
    app = flask_app("new")

    @app.route("/to-shop")
    def to_shop() -> str:
        return wsgihub.url_for("shop:item", id=3, ref="new")

    shop.on_index = lambda request: wsgihub.url_for("new:user", uid=5) + " " + request.environ["wsgihub.hub"].url_for(
        "new:login", _method="POST"
    )
    hub = make_hub()
    hub.mount("/shop", shop)
    hub.mount("/new", app)
    client = Client(hub)
    assert client.get("/new/to-shop").text == "/shop/items/3?ref=new"
    assert client.get("/shop/").text == "/new/users/5 /new/login"
    assert hub.peg("shop").framework == "werkzeug" and hub.peg("new").framework == "flask"


def test_outside_requests_and_under_a_hub_root(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/new", flask_app("b"))
    assert hub.url_for("new:user", uid=1) == "/new/users/1"
    assert hub.url_for("new:user", uid=1, tab="posts", page=2) == "/new/users/1?tab=posts&page=2"
    assert hub.url_for("new:user", uid=1, _anchor="bio") == "/new/users/1#bio"
    app = flask_app("a")

    @app.route("/where")
    def where() -> str:
        return wsgihub.url_for("new:user", uid=1)

    hub.mount("/", app)
    assert Client(hub).get("/where", base_url="http://localhost/site").text == "/site/new/users/1"


def test_public_url_outside_requests(make_hub, flask_app):
    hub = make_hub(public_url="https://www.example.com/base")
    hub.mount("/new", flask_app("b"))
    assert hub.url_for("new:index") == "/base/new/"
    assert hub.url_for("new:user", uid=4, _external=True) == "https://www.example.com/base/new/users/4"
    assert hub.url_for("new:user", uid=4, _external=True, _scheme="http") == "http://www.example.com/base/new/users/4"


def test_external_urls_need_a_trusted_host(make_hub, flask_app):
    app = flask_app("a")

    @app.route("/ext")
    def ext() -> str:
        try:
            return wsgihub.url_for("new:user", uid=7, _external=True)
        except UntrustedHostError as exc:
            return f"refused: {exc}"

    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/", app)
    hub.mount("/new", flask_app("b"))
    client = Client(hub)
    assert client.get("/ext", headers={"Host": "example.com"}).text == "http://example.com/new/users/7"
    assert (
        client.get("/ext", base_url="https://example.com:8443").text == "https://example.com:8443/new/users/7"
    )
    # Flask itself refuses the Host now (TRUSTED_HOSTS from the hub, wsgihub_flask.hosts);
    # the hub's own refusal inside a request is the conformance suite's (request_context).
    refused = client.get("/ext", headers={"Host": "evil.test"})
    assert refused.status_code == 400 and "refused" not in refused.text
    with pytest.raises(UntrustedHostError, match="outside a request"):
        hub.url_for("new:index", _external=True)


def test_method_picks_the_rule(make_hub, flask_app):
    app = flask_app("b")

    def items() -> str:
        return flask.request.method

    app.add_url_rule("/items", endpoint="items", view_func=items, methods=["GET"])
    app.add_url_rule("/items/new", endpoint="items", view_func=items, methods=["POST"])
    hub = make_hub()
    hub.mount("/new", app)
    assert hub.url_for("new:items") == "/new/items"
    assert hub.url_for("new:items", _method="POST") == "/new/items/new"
    with pytest.raises(URLBuildError, match=r"^cannot build 'new:report': no rule for method 'POST' \(methods: GET, HEAD, OPTIONS\)$"):
        hub.url_for("new:report", rid=1, _method="POST")


def test_blueprints_url_defaults_and_the_first_colon(make_hub, flask_app):
    app = flask_app("b")
    i18n = flask.Blueprint("i18n", __name__, url_prefix="/<lang>")

    @i18n.url_defaults
    def default_lang(endpoint: str, values: dict) -> None:
        # Flask's documented pattern: keep the current request's language
        values.setdefault("lang", flask.g.get("lang", "en") if flask.has_app_context() else "en")

    @i18n.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict | None) -> None:
        flask.g.lang = values.pop("lang") if values else None

    @i18n.route("/page", endpoint="page")
    def page() -> str:
        return f"page in {flask.g.lang} {flask.url_for('i18n.page')}"

    app.register_blueprint(i18n)
    app.add_url_rule("/api/v1", endpoint="api:v1", view_func=lambda: "api")
    hub = make_hub()
    hub.mount("/new", app)
    assert hub.url_for("new:i18n.page") == "/new/en/page"
    assert hub.url_for("new:i18n.page", lang="fr") == "/new/fr/page"
    assert hub.url_for("new:api:v1") == "/new/api/v1"  # split at the first colon only
    assert Client(hub).get("/new/de/page").text == "page in de /new/de/page"
    assert ("i18n.page", "/new/<lang>/page") in {(r.endpoint, r.rule) for r in hub.routes("new")}


def test_url_build_error_handlers_get_their_chance(make_hub, flask_app):
    app = flask_app("b")
    seen = []

    def external_docs(error, endpoint, values):
        seen.append((endpoint, values))
        return "https://docs.example.com/" + endpoint[5:] if endpoint.startswith("docs.") else None

    app.url_build_error_handlers.append(external_docs)
    hub = make_hub()
    hub.mount("/new", app)
    assert hub.url_for("new:docs.install") == "https://docs.example.com/install"
    assert seen[-1] == ("docs.install", {"_anchor": None, "_method": None, "_scheme": None, "_external": False})
    with pytest.raises(UnknownEndpointError):
        hub.url_for("new:nothing")


def test_unknown_endpoint_names_the_closest_matches(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/new", flask_app("b"))
    with pytest.raises(UnknownEndpointError) as info:
        hub.url_for("new:usr", uid=1)
    assert str(info.value) == "cannot build 'new:usr': the flask app has no endpoint 'usr' (did you mean 'user'?)"


def test_missing_and_bad_values(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/new", flask_app("b"))
    with pytest.raises(URLBuildError, match=r"^cannot build 'new:user': rule '/users/<int:uid>' needs 'uid' \(given: none\)$"):
        hub.url_for("new:user")
    with pytest.raises(URLBuildError, match=r"^cannot build 'new:user': bad value"):
        hub.url_for("new:user", uid="x")


def test_routes_keep_flasks_rules_and_methods(make_hub, flask_app):
    hub = make_hub()
    hub.mount("/new", flask_app("b"))
    routes = {r.endpoint: r for r in hub.routes("new")}
    assert routes["static"].rule == "/new/static/<path:filename>"
    assert routes["report"].methods == frozenset({"GET", "HEAD", "OPTIONS"})
    assert routes["login"].methods == frozenset({"GET", "HEAD", "POST", "OPTIONS"})
    assert routes["user"].framework == "flask" and routes["user"].mount == "new"


def test_jinja_hub_url_links_to_another_mount(make_hub, flask_app, shop):
    app = flask_app("b")

    @app.route("/links")
    def links() -> str:
        return flask.render_template_string(
            '<a href="{{ hub_url("shop:item", id=3) }}">shop</a> '
            '<a href="{{ hub_url("root:user", uid=1, _anchor="x") }}">home</a> '
            '<a href="{{ url_for("user", uid=2) }}">mine</a>'
        )

    hub = make_hub()
    hub.mount("/", flask_app("a"))
    hub.mount("/shop", shop)
    hub.mount("/new", app)
    assert Client(hub).get("/new/links").text == (
        '<a href="/shop/items/3">shop</a> <a href="/users/1#x">home</a> <a href="/new/users/2">mine</a>'
    )
    with app.app_context():  # outside requests: the hub the app was mounted on
        assert flask.render_template_string('{{ hub_url("shop:item", id=1) }}') == "/shop/items/1"
        assert hub_url("shop:item", id=2) == "/shop/items/2"
    hub.unmount("new")
    assert "hub_url" not in app.jinja_env.globals
    with app.app_context(), pytest.raises(wsgihub.WsgihubError, match="not mounted"):
        hub_url("shop:item", id=2)


def test_partyline_url_service(make_hub, flask_app, shop):
    hub = make_hub()
    hub.mount("/new", flask_app("b"))
    hub.mount("/shop", shop)
    asker = hub.peg("shop").operator
    assert asker.ask_around("url", {"endpoint": "new:user", "values": {"uid": 8}}) == ["/new/users/8"]
    assert asker.ask_around("url", "new:nothing") == []
