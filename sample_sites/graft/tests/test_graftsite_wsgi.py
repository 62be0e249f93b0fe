"""The sample site through WSGI (webtest): pages, the graft, links, redirects, login."""

from __future__ import annotations

from typing import Any

import pytest
from graftsite_helpers import generator, internal_path, json_links, page_links

#: The site's own 404 page (templates/404.html, DEBUG off), with its header and links.
DJANGO_404 = '<p id="not-found">'
#: A failed login's one message: the login form's own.
BAD_LOGIN = "Please enter a correct username and password."


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
    pages, ``json`` for API answers.  Admin pages are fetched but their links
    not followed: the demo user may open the admin, whose filters and sort
    orders are endless (and Django's own business).
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
            if not path.startswith("/admin/"):
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


def test_fastapi_part_answers_json_with_links_to_every_part(app: Any) -> None:
    """The FastAPI service at /v2 (ASGI through the hub's bridge; no bus started here)."""
    index = app.get("/v2/")
    assert index.content_type == "application/json"
    assert index.json["name"] == "graftsite v2"
    assert index.json["links"]["reports"] == "http://localhost/reports/"
    assert index.json["links"]["posts_api"] == "http://localhost/api/posts"
    pk = post_ids(app)[0]
    one = app.get(f"/v2/posts/{pk}").json
    assert one["links"]["html"] == f"http://localhost/blog/{pk}/"
    assert one["links"]["api"] == f"http://localhost/api/posts/{pk}"
    assert one["links"]["author"].startswith("http://localhost/users/")
    assert app.get("/v2/posts/99999", status=404).json == {"detail": "no post 99999"}
    assert "/v2/" in page_links(app.get("/").text).links


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


def test_a_404_inside_a_flask_route_falls_through_to_django(app: Any) -> None:
    # Flask's route matches but has no such user: its 404 to a GET falls through.
    res = app.get("/users/99999", status=404)
    assert DJANGO_404 in res.text and generator(res) == "django"


def test_404_pages_are_site_pages(app: Any) -> None:
    res = app.get("/no-such-page/", status=404)
    assert generator(res) == "django"
    links = page_links(res.text).links
    assert {"/", "/blog/", "/reports/"} <= set(links)


def test_404_pages_keep_the_mount_prefix(hub: Any) -> None:
    """The same site mounted at /old: its 404 page links stay below /old (one Django project,
    two prefixes, one process: allowed)."""
    from django.core.wsgi import get_wsgi_application
    from graftsite.api import make_api
    from graftsite.new import create_app
    from webtest import TestApp

    import wsgihub

    moved = wsgihub.Hub(trusted_hosts=("localhost",))
    moved.mount("/old", get_wsgi_application(), name="legacy")
    moved.mount("/old/api", make_api(), name="api")
    moved.graft(create_app(), over="legacy", name="new")
    client = TestApp(moved, extra_environ={"HTTP_HOST": "localhost"})
    for path in ("/old/no-such-page/", "/old/users/99999"):
        res = client.get(path, status=404)
        assert DJANGO_404 in res.text and f"<code>{path}</code>" in res.text
        links = set(page_links(res.text).links)
        assert {"/old/", "/old/blog/", "/old/reports/"} <= links, (path, links)
    # With fall-through off, Flask's own 404 page is a site page too (prefix kept).
    strict = wsgihub.Hub(trusted_hosts=("localhost",))
    strict.mount("/old", get_wsgi_application(), name="legacy")
    strict.mount("/old/api", make_api(), name="api")
    strict.graft(create_app(), over="legacy", name="new", fall_through=False)
    res = TestApp(strict, extra_environ={"HTTP_HOST": "localhost"}).get(
        "/old/users/99999", status=404
    )
    assert generator(res) == "flask" and "<code>/old/users/99999</code>" in res.text
    assert {"/old/", "/old/reports/"} <= set(page_links(res.text).links)


def test_favicon(app: Any) -> None:
    for page in ("/", "/reports/"):
        assert "/static/legacy/favicon.svg" in page_links(app.get(page).text).links
    icon = app.get("/static/legacy/favicon.svg")
    assert icon.content_type == "image/svg+xml" and icon.body.startswith(b"<svg")
    assert app.get("/favicon.ico", status=301).location.endswith("/static/legacy/favicon.svg")


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
        "/v2/",
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


def test_wrong_password_stays_on_the_login_page_with_one_message(app: Any) -> None:
    page = app.get("/accounts/login/")
    form = page.forms["login-form"]
    form["username"] = "demo"
    form["password"] = "wrong"
    res = form.submit()
    assert res.status_int == 200
    assert res.text.count(BAD_LOGIN) == 1
    assert "didn" not in res.text  # no second, hand-written message


def test_demo_user_opens_the_admin(app: Any) -> None:
    login(app)
    admin = app.get("/admin/")
    assert admin.status_int == 200 and "Site administration" in admin.text
    assert "/admin/" in page_links(app.get("/").text).links


def test_flask_pages_show_the_login_state(app: Any) -> None:
    anonymous = app.get("/reports/")
    assert 'id="login"' in anonymous.text
    assert "/accounts/login/?next=%2Freports%2F" in page_links(anonymous.text).links
    login(app)
    page = app.get("/reports/")
    assert generator(page) == "flask"
    assert '<a href="/whoami" id="whoami">Dana Demo</a>' in page.text
    assert 'id="login"' not in page.text


def test_logout_from_a_flask_page(app: Any) -> None:
    login(app)
    assert app.get("/whoami").status_int == 200
    form = next(f for f in app.get("/reports/").forms.values() if f.action == "/logout")
    done = form.submit(status=302)
    assert done.location in ("/", "http://localhost/")
    assert app.get("/whoami", status=302).location.endswith("/accounts/login/?next=%2Fwhoami")


def test_logout_posted_from_another_site_is_refused(app: Any) -> None:
    login(app)
    app.post("/logout", headers={"Origin": "http://evil.example"}, status=403)
    assert app.get("/whoami").status_int == 200


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
