"""Wagtail at ``/`` and flaskr at ``/blog``, side by side, under ``wsgihub serve``.

Everything a user of either project does: flaskr's registration, login, a new
post, logout; Wagtail's admin and the Django admin, logged in, with every
stylesheet, script and image their pages reference; every redirect keeps the
mount prefix.
"""

from __future__ import annotations

import uuid

import pytest
from conftest import ADMIN
from thirdparty_helpers import Client, Served, assets

pytestmark = pytest.mark.live


def flaskr_user_session(client: Client, prefix: str) -> str:
    """Register and log in a new flaskr user through its forms; checks each redirect."""
    name = f"u{uuid.uuid4().hex[:8]}"
    page = client.get(f"{prefix}/auth/register")
    assert page.status_code == 200 and "Register" in page.text
    registered = client.post(f"{prefix}/auth/register", {"username": name, "password": "pw"})
    assert registered.status_code == 302
    assert registered.headers["Location"] == f"{prefix}/auth/login"
    logged_in = client.post(f"{prefix}/auth/login", {"username": name, "password": "pw"})
    assert logged_in.status_code == 302
    assert logged_in.headers["Location"] == f"{prefix}/"
    return name


def assert_assets_ok(client: Client, page: object, expect_some: int = 1) -> list[str]:
    """Every site-local asset ``page`` references answers 200; returns them."""
    html, url = page.text, page.url  # type: ignore[attr-defined]
    found = assets(html, url)
    assert len(found) >= expect_some, f"{url} references no assets:\n{html[:2000]}"
    failed = {}
    for path in found:
        if path in client.fetched:  # the same file on an earlier page of this client
            continue
        client.fetched.add(path)
        response = client.get(path)
        if response.status_code != 200:
            failed[path] = response.status_code
    assert not failed, f"assets of {url} that do not answer 200: {failed}"
    return found


def test_flaskr_register_login_post_logout(mounted: Served) -> None:
    client = mounted.client()
    with mounted.explained():
        # login_required sends an anonymous visitor to the login page, under /blog.
        anonymous = client.get("/blog/create")
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"] == "/blog/auth/login"
        name = flaskr_user_session(client, "/blog")
        index = client.get("/blog/")
        assert index.status_code == 200
        assert f"<span>{name}</span>" in index.text and "Log Out" in index.text
        assert_assets_ok(client, index)
        title = f"Post {uuid.uuid4().hex[:6]}"
        created = client.post("/blog/create", {"title": title, "body": "grafted"})
        assert (created.status_code, created.headers["Location"]) == (302, "/blog/")
        assert title in client.get("/blog/").text
        out = client.get("/blog/auth/logout")
        assert (out.status_code, out.headers["Location"]) == (302, "/blog/")
        assert "Log Out" not in client.get("/blog/").text
        # A wrong password: flaskr's one message.
        wrong = client.post("/blog/auth/login", {"username": name, "password": "nope"})
        assert wrong.status_code == 200 and wrong.text.count("Incorrect password.") == 1


def test_wagtail_home_and_404_are_wagtails(mounted: Served) -> None:
    client = mounted.client()
    with mounted.explained():
        home = client.get("/")
        assert home.status_code == 200 and "wagtail" in home.text.lower()
        assert_assets_ok(client, home)
        missing = client.get("/no-such-page/")
        assert missing.status_code == 404


def test_wagtail_admin_login_pages_and_every_asset(mounted: Served) -> None:
    client = mounted.client()
    with mounted.explained():
        anonymous = client.get("/admin/")
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].startswith("/admin/login/")
        login_page = client.get("/admin/login/")
        assert_assets_ok(client, login_page, expect_some=3)
        logged_in = client.log_in("/admin/login/", *ADMIN)
        assert logged_in.status_code == 302, logged_in.text[:1000]
        assert logged_in.headers["Location"] == "/admin/"
        for path in ("/admin/", "/admin/pages/", "/admin/users/", "/admin/images/"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert_assets_ok(client, page, expect_some=3)


def test_django_admin_login_pages_and_every_asset(mounted: Served) -> None:
    client = mounted.client()
    with mounted.explained():
        anonymous = client.get("/django-admin/")
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"] == "/django-admin/login/?next=/django-admin/"
        assert_assets_ok(client, client.get("/django-admin/login/"), expect_some=2)
        logged_in = client.log_in("/django-admin/login/?next=/django-admin/", *ADMIN)
        assert (logged_in.status_code, logged_in.headers["Location"]) == (302, "/django-admin/")
        for path in ("/django-admin/", "/django-admin/auth/user/", "/django-admin/auth/user/add/"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert_assets_ok(client, page, expect_some=2)


def test_the_two_logins_are_separate_sessions(mounted: Served) -> None:
    """flaskr keeps its own users: a flaskr login is not a CMS login (nor the other way)."""
    client = mounted.client()
    with mounted.explained():
        flaskr_user_session(client, "/blog")
        assert client.get("/admin/").status_code == 302
        assert client.log_in("/admin/login/", *ADMIN).status_code == 302
        assert client.get("/admin/").status_code == 200
        # Both cookies live side by side: flaskr's "session", Django's "sessionid".
        assert {"session", "sessionid"} <= set(client.session.cookies.keys())
