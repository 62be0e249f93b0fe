"""The sample site through WSGI (webtest): pages, the graft, links, redirects, login."""

from __future__ import annotations

from typing import Any

import pytest
from graftsite_helpers import generator, internal_path, json_links, page_links

DJANGO_404 = "The requested resource was not found on this server."
FLASK_404 = "The requested URL was not found on the server."


def login(app: Any, next_path: str | None = None) -> Any:
    """Log in as demo/demo through Django's login form (CSRF token and cookie included)."""
    url = "/accounts/login/" + (f"?next={next_path}" if next_path else "")
    page = app.get(url)
    assert generator(page) == "django"
    form = page.forms["login-form"]
    assert form["csrfmiddlewaretoken"].value
    form["username"] = "demo"
    form["password"] = "demo"
    return form.submit()


def post_ids(app: Any) -> list[int]:
    return [p["id"] for p in app.get("/api/posts").json["posts"]]


def crawl(app: Any, start: str = "/", limit: int = 400) -> dict[str, tuple[int, str | None]]:
    """Fetch ``start`` and every internal link reachable from it.

    Returns ``{path: (status, generator)}``; a redirect's ``Location`` is
    followed like a link.  ``generator`` is ``django``/``flask`` for HTML
    pages, ``json`` for API answers.
    """
    seen: dict[str, tuple[int, str | None]] = {}
    queue = [start]
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        assert len(seen) < limit, f"crawl did not end after {limit} pages"
        res = app.get(path, expect_errors=True)
        found: list[str] = []
        kind = None
        if res.status_int in (301, 302, 303, 307, 308):
            found.append(res.headers["Location"])
        elif res.status_int == 200 and res.content_type == "text/html":
            links = page_links(res.text)
            kind = links.generator
            found.extend(links.links)
        elif res.status_int == 200 and res.content_type == "application/json":
            kind = "json"
            found.extend(json_links(res.json))
        seen[path] = (res.status_int, kind)
        for url in found:
            target = internal_path(url, path)
            if target is not None and target not in seen:
                queue.append(target)
    return seen


# -- every page answers, each framework serves its own -----------------------------------


@pytest.mark.parametrize(
    ("path", "served_by"),
    [
        ("/", "django"),
        ("/blog/", "django"),
        ("/accounts/login/", "django"),
        ("/admin/login/", None),  # Django's admin templates: no generator stamp
        ("/reports/", "flask"),
        ("/users/1", "flask"),
    ],
)
def test_every_page_answers(app: Any, path: str, served_by: str | None) -> None:
    res = app.get(path)
    assert res.status_int == 200
    assert res.content_type == "text/html"
    assert generator(res) == served_by


def test_blog_detail_pages_answer(app: Any) -> None:
    ids = post_ids(app)
    assert len(ids) >= 3
    for pk in ids:
        res = app.get(f"/blog/{pk}/")
        assert generator(res) == "django"


def test_static_files_are_served_by_django(app: Any) -> None:
    res = app.get("/static/legacy/site.css")
    assert res.content_type == "text/css"
    assert "header.flask" in res.text


def test_api_answers_json(app: Any) -> None:
    res = app.get("/api/")
    assert res.content_type == "application/json"
    links = res.json["links"]
    assert links["self"] == "http://localhost/api/"
    assert links["blog"] == "http://localhost/blog/"
    assert links["reports"] == "http://localhost/reports/"
    assert links["whoami"] == "http://localhost/whoami"
    assert app.get("/api").json == res.json


def test_api_gives_urls_of_the_other_apps(app: Any) -> None:
    posts = app.get("/api/posts").json["posts"]
    first = posts[0]
    assert first["links"]["html"] == f"http://localhost/blog/{first['id']}/"
    assert first["links"]["author"].startswith("http://localhost/users/")
    one = app.get(f"/api/posts/{first['id']}").json
    assert one == first
    missing = app.get("/api/posts/99999", status=404)
    assert missing.json == {"error": "no post 99999"}


# -- the graft: Flask's routes go to Flask, everything else stays Django -------------------


def test_grafted_routes_go_to_flask_others_to_django(app: Any) -> None:
    assert generator(app.get("/reports/")) == "flask"
    assert generator(app.get("/users/1")) == "flask"
    assert generator(app.get("/")) == "django"
    assert generator(app.get("/blog/")) == "django"


def test_a_path_flask_does_not_route_falls_through_to_django(app: Any) -> None:
    # /users/<int:uid>: "abc" is no int, so Flask has no route and Django answers.
    res = app.get("/users/abc", status=404)
    assert DJANGO_404 in res.text
    res = app.get("/no-such-page/", status=404)
    assert DJANGO_404 in res.text


def test_a_method_flask_does_not_route_falls_through_to_django(app: Any) -> None:
    # /reports/ is GET-only in Flask: a POST is not Flask's, and Django has no such URL.
    res = app.post("/reports/", status=404)
    assert DJANGO_404 in res.text


def test_a_404_inside_a_flask_route_is_flasks(app: Any) -> None:
    res = app.get("/users/99999", status=404)
    assert FLASK_404 in res.text


# -- links across the seam ----------------------------------------------------------------


def test_django_templates_link_into_flask(app: Any) -> None:
    ids = post_ids(app)
    home = page_links(app.get("/").text).links
    assert "/reports/" in home
    assert "/reports/latest" in home
    assert "/whoami" in home
    assert "/api/" in home
    detail = app.get(f"/blog/{ids[0]}/")
    author = (
        app.get("/api/posts").json["posts"][0]["links"]["author"].removeprefix("http://localhost")
    )
    assert author in page_links(detail.text).links


def test_flask_templates_link_into_django(app: Any) -> None:
    ids = post_ids(app)
    links = page_links(app.get("/reports/").text).links
    for pk in ids:
        assert f"/blog/{pk}/" in links
    assert "/" in links
    assert "/blog/" in links
    assert "/api/" in links
    assert "/static/legacy/site.css" in links


def test_crawl_every_internal_link_resolves(app: Any) -> None:
    seen = crawl(app)
    bad = {path: status for path, (status, _) in seen.items() if status not in (200, 302)}
    assert not bad, f"links that do not resolve: {bad}"
    kinds = {kind for _, kind in seen.values()}
    assert {"django", "flask", "json"} <= kinds
    for path in (
        "/reports/",
        "/reports/latest",
        "/whoami",
        "/blog/",
        "/api/",
        "/api/posts",
        "/admin/",
    ):
        assert path in seen, f"the crawl never reached {path}"
    assert seen["/reports/"][1] == "flask"
    assert any(p.startswith("/users/") and k == "flask" for p, (_, k) in seen.items())
    assert any(p.startswith("/blog/") and p.endswith("/author/") for p in seen)


def test_crawl_logged_in(app: Any) -> None:
    login(app)
    seen = crawl(app)
    bad = {path: status for path, (status, _) in seen.items() if status not in (200, 302)}
    assert not bad, f"links that do not resolve: {bad}"
    assert seen["/whoami"] == (200, "flask")


# -- redirects across the seam ------------------------------------------------------------


def test_django_view_redirects_into_flask(app: Any) -> None:
    post = app.get("/api/posts").json["posts"][0]
    res = app.get(f"/blog/{post['id']}/author/", status=302)
    assert "http://localhost" + res.location == post["links"]["author"]
    landed = res.follow()
    assert generator(landed) == "flask"
    assert post["author"] in landed.text


def test_flask_view_redirects_into_django(app: Any) -> None:
    newest = app.get("/api/posts").json["posts"][0]
    res = app.get("/reports/latest", status=302)
    assert res.location in (f"/blog/{newest['id']}/", f"http://localhost/blog/{newest['id']}/")
    landed = res.follow()
    assert generator(landed) == "django"
    assert newest["title"] in landed.text


# -- login across the seam ------------------------------------------------------------------


def test_anonymous_flask_page_redirects_to_django_login(app: Any) -> None:
    res = app.get("/whoami", status=302)
    assert res.location.endswith("/accounts/login/?next=%2Fwhoami")
    form = res.follow()
    assert generator(form) == "django"
    assert "login-form" in form.forms


def test_login_on_django_then_flask_shows_the_user(app: Any) -> None:
    done = login(app, next_path="/whoami")
    assert done.status_int == 302
    assert done.location.endswith("/whoami")
    page = done.follow()
    assert generator(page) == "flask"
    assert '<strong id="user-name">Dana Demo</strong>' in page.text
    # ...and Django, on the other side of the seam, sees the same session.
    assert "Dana Demo" in app.get("/").text


def test_login_without_next_goes_through_the_django_profile_redirect(app: Any) -> None:
    done = login(app)
    assert done.location.endswith("/accounts/profile/")
    profile = done.follow()
    assert profile.status_int == 302
    assert profile.location.endswith("/whoami")
    assert "Dana Demo" in profile.follow().text


def test_logout_on_django_logs_out_of_flask_too(app: Any) -> None:
    login(app)
    assert app.get("/whoami").status_int == 200
    home = app.get("/")
    logout = next(f for f in home.forms.values() if f.action.endswith("/accounts/logout/"))
    logout.submit(status=302)
    assert app.get("/whoami", status=302).location.endswith("/accounts/login/?next=%2Fwhoami")


def test_wrong_password_stays_on_the_login_page(app: Any) -> None:
    page = app.get("/accounts/login/")
    form = page.forms["login-form"]
    form["username"] = "demo"
    form["password"] = "wrong"
    res = form.submit()
    assert res.status_int == 200
    assert "didn&#x27;t match" in res.text or "didn't match" in res.text


# -- the same site in Python ------------------------------------------------------------------


def _route_table(hub: Any) -> set[tuple[str, str, str | None, bool]]:
    return {(r.name, r.rule, r.framework, r.grafted) for r in hub.routes()}


def test_python_site_is_the_ini_site(hub: Any) -> None:
    from graftsite.site import make_hub

    built = make_hub()
    assert [p.name for p in built.pegs()] == [p.name for p in hub.pegs()]
    assert _route_table(built) == _route_table(hub)
    assert built.url_for("new:user", uid=5) == hub.url_for("new:user", uid=5) == "/users/5"
    assert built.url_for("legacy:blog:detail", pk=3) == "/blog/3/"
    assert built.url_for("api:post", pk=3) == "/api/posts/3"
    assert built.check() == []


def test_models_and_migrations_agree(hub: Any) -> None:
    from django.core.management import call_command

    # Exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
