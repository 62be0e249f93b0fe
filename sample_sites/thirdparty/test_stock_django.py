"""A stock ``django-admin startproject`` at ``/site`` under ``wsgihub serve``.

Its URL conf has no static route and its ``STATIC_URL`` is relative
(``"static/"``): ``runserver`` serves the admin's files, and so must
``wsgihub serve`` while ``DEBUG`` is on, below the mount prefix.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import ADMIN, Projects
from test_mounted import assert_assets_ok
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
