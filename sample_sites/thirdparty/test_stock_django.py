"""A stock ``django-admin startproject`` at ``/site`` under ``wsgihub serve``, alone and with flaskr grafted.

Its URL conf has no static route and its ``STATIC_URL`` is relative
(``"static/"``): ``runserver`` serves the admin's files, and so must
``wsgihub serve`` while ``DEBUG`` is on, below the mount prefix.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import ADMIN, Projects
from test_mounted import assert_assets_ok, flaskr_user_session
from thirdparty_helpers import Served

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stock(projects: Projects) -> Iterator[Served]:
    served = projects.serve("site.ini", cwd=projects.stock)
    try:
        yield served
    finally:
        assert served.stop() == 0, "".join(served.output)


def test_admin_under_a_prefix_with_every_asset(stock: Served) -> None:
    client = stock.client()
    with stock.explained():
        anonymous = client.get("/site/admin/")
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"] == "/site/admin/login/?next=/site/admin/"
        login_page = client.get("/site/admin/login/?next=/site/admin/")
        found = assert_assets_ok(client, login_page, expect_some=2)
        assert "/site/static/admin/css/base.css" in found
        logged_in = client.log_in("/site/admin/login/?next=/site/admin/", *ADMIN)
        assert (logged_in.status_code, logged_in.headers["Location"]) == (302, "/site/admin/")
        for path in ("/site/admin/", "/site/admin/auth/user/", "/site/admin/auth/group/add/"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert_assets_ok(client, page, expect_some=2)
        # Outside the prefix nothing is served: the static files live below the mount.
        assert client.get("/static/admin/css/base.css").status_code == 404


def test_flaskr_grafted_below_the_prefix(projects: Projects) -> None:
    """``graft flaskr = stock`` with the stock project at /site: every URL keeps the prefix."""
    served = projects.serve("grafted.ini", cwd=projects.stock)
    client = served.client()
    try:
        with served.explained():
            anonymous = client.get("/site/create")
            assert (anonymous.status_code, anonymous.headers["Location"]) == (
                302,
                "/site/auth/login",
            )
            flaskr_user_session(client, "/site")
            index = client.get("/site/")
            assert index.status_code == 200 and "Log Out" in index.text
            assert assert_assets_ok(client, index) == ["/site/static/style.css"]
            # The admin's files are not flaskr's: they fall through to Django, below /site.
            login_page = client.get("/site/admin/login/")
            assert "/site/static/admin/css/base.css" in assert_assets_ok(client, login_page, 2)
            logged_in = client.log_in("/site/admin/login/?next=/site/admin/", *ADMIN)
            assert (logged_in.status_code, logged_in.headers["Location"]) == (302, "/site/admin/")
            assert_assets_ok(client, client.get("/site/admin/auth/user/"), expect_some=2)
    finally:
        assert served.stop() == 0, "".join(served.output)
