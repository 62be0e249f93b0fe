"""flaskr grafted over the Wagtail site (``graft flaskr = cms``), every default, under ``wsgihub serve``.

The issue's report: flaskr's ``/static/<path:filename>`` took every
``/static/`` URL, so both admins lost their CSS and JavaScript, and its ``/``
took the home page while ``wsgihub check`` said ``ok``.  With the defaults a
grafted app's 404 to GET/HEAD falls through to the app beneath: both apps'
static files are served, every admin page and asset works, and ``check``
names what the graft takes.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from conftest import ADMIN, Projects
from test_mounted import assert_assets_ok, flaskr_user_session
from thirdparty_helpers import Served

pytestmark = pytest.mark.live


def test_flaskr_works_at_the_root_of_the_cms(grafted: Served) -> None:
    client = grafted.client()
    with grafted.explained():
        anonymous = client.get("/create")
        assert (anonymous.status_code, anonymous.headers["Location"]) == (302, "/auth/login")
        name = flaskr_user_session(client, "")
        index = client.get("/")  # flaskr's index takes "/" (check says so, below)
        assert index.status_code == 200 and f"<span>{name}</span>" in index.text
        # flaskr's own stylesheet, from flaskr's static route.
        assert assets(index) == ["/static/style.css"]
        assert_assets_ok(client, index)
        title = f"Grafted {uuid.uuid4().hex[:6]}"
        created = client.post("/create", {"title": title, "body": "over Wagtail"})
        assert (created.status_code, created.headers["Location"]) == (302, "/")
        assert title in client.get("/").text


def assets(page: object) -> list[str]:
    from thirdparty_helpers import assets as page_assets

    return page_assets(page.text, page.url)  # type: ignore[attr-defined]


def test_wagtail_admin_keeps_every_page_and_asset(grafted: Served) -> None:
    """/static/wagtailadmin/... is not flaskr's file: flaskr's 404 falls through to Django."""
    client = grafted.client()
    with grafted.explained():
        assert client.get("/admin/").headers["Location"].startswith("/admin/login/")
        assert_assets_ok(client, client.get("/admin/login/"), expect_some=3)
        logged_in = client.log_in("/admin/login/", *ADMIN)
        assert (logged_in.status_code, logged_in.headers["Location"]) == (302, "/admin/")
        for path in ("/admin/", "/admin/pages/", "/admin/users/", "/admin/images/"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert_assets_ok(client, page, expect_some=3)


def test_django_admin_keeps_every_page_and_asset(grafted: Served) -> None:
    client = grafted.client()
    with grafted.explained():
        assert_assets_ok(client, client.get("/django-admin/login/"), expect_some=2)
        logged_in = client.log_in("/django-admin/login/?next=/django-admin/", *ADMIN)
        assert (logged_in.status_code, logged_in.headers["Location"]) == (302, "/django-admin/")
        for path in ("/django-admin/", "/django-admin/auth/user/"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert_assets_ok(client, page, expect_some=2)


def test_what_flaskr_does_not_answer_is_the_cms(grafted: Served) -> None:
    client = grafted.client()
    with grafted.explained():
        search = client.get("/search/?query=welcome")
        assert search.status_code == 200 and "Search" in search.text
        # A 404 of both apps is the CMS's 404 page (the app beneath has the last word).
        missing = client.get("/no-such-page/")
        assert missing.status_code == 404
        # HEAD falls through like GET: flaskr has no such file, Django has.  (A connection of
        # its own: see test_head_answers_have_no_body.)
        head = client.request(
            "HEAD", "/static/wagtailadmin/css/core.css", headers={"Connection": "close"}
        )
        assert head.status_code == 200 and head.headers["Content-Type"].startswith("text/css")
        # Any other method is never run twice: flaskr's 404 to a POST is final
        # (flaskr's own "Post id ... doesn't exist.", not Django's page).
        flaskr_user_session(client, "")
        gone = client.post("/999999/update", {"title": "t", "body": "b"})
        assert gone.status_code == 404
        assert "Post id 999999 doesn&#39;t exist." in gone.text
        # A method flaskr's route does not take is not flaskr's request: Django answers.
        assert client.post("/hello/", {}).status_code == 403  # Django's CSRF check


def test_check_names_what_the_graft_takes(projects: Projects) -> None:
    """``wsgihub check`` warns (exit 1) and names both sides of every route the graft takes."""
    code, out, err = projects.wsgihub("check", "grafted.ini")
    text = out + err
    assert code == 1, text
    # flaskr's "/" takes the CMS's home page (Wagtail serves every page through one pattern).
    assert re.search(r"flaskr:index takes .*cms:wagtail_serve.*'/'", text), text
    assert re.search(r"flaskr:blog\.index takes .*cms:wagtail_serve.*'/'", text), text
    # flaskr's static route overlaps the CMS's static files (served through fall-through).
    assert re.search(r"flaskr:static .*'/static/", text), text


def test_routes_grafts_is_the_migration_report(projects: Projects) -> None:
    code, out, err = projects.wsgihub("routes", "grafted.ini", "--grafts")
    assert code == 0, out + err
    assert re.search(r"flaskr takes \d+ of \d+ routes of cms", out), out
    code, out, err = projects.wsgihub("routes", "grafted.ini", "--grafts", "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report, out


def head_raw(served: Served, path: str) -> tuple[bytes, bytes]:
    """A HEAD request on a socket of its own: (status line, whatever came after the headers)."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(served.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(
            f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], rest


def test_head_answers_have_no_body(grafted: Served) -> None:
    with grafted.explained():
        for path in ("/static/wagtailadmin/css/core.css", "/admin/login/", "/auth/login"):
            status, rest = head_raw(grafted, path)
            assert status == b"HTTP/1.1 200 OK", (path, status)
            assert rest == b"", f"HEAD {path}: {len(rest)} bytes of body after the headers"
