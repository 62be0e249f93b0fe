"""Scoped grafts on the third-party pair: a graft takes only what it is told.

The site file says it in one line (``graft flaskr exclude = index blog.index``):
the CMS keeps its home page, flaskr keeps the rest.  In Python the same is
``hub.graft(app, over="cms", only=[...])``.  ``wsgihub check`` and the
migration report (``wsgihub routes --grafts``) follow the scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import GRAFTED_INI, Projects
from thirdparty_helpers import Served

pytestmark = pytest.mark.live

#: grafted.ini plus the one line that gives the home page back to the CMS.
EXCLUDE_LINE = "graft flaskr exclude = index blog.index\n"

ONLY_SITE = '''\
"""flaskr grafted over the CMS, only its login pages and static files."""
import os

import wsgihub


def make_hub():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings.dev")
    from django.core.wsgi import get_wsgi_application
    from flaskr import create_app

    hub = wsgihub.Hub(trusted_hosts=("127.0.0.1", "localhost"))
    hub.mount("/", get_wsgi_application(), name="cms")
    hub.graft(create_app(), over="cms", name="flaskr", only=["auth.*", "static"])
    return hub
'''


@pytest.fixture(scope="module")
def scoped_files(projects: Projects) -> Projects:
    ini = GRAFTED_INI.replace("graft flaskr = cms\n", "graft flaskr = cms\n" + EXCLUDE_LINE)
    assert EXCLUDE_LINE in ini
    (projects.cms / "excluded.ini").write_text(ini)
    (projects.cms / "only_site.py").write_text(ONLY_SITE)
    return projects


@pytest.fixture(scope="module")
def excluded(scoped_files: Projects) -> Iterator[Served]:
    served = scoped_files.serve("excluded.ini")
    try:
        yield served
    finally:
        assert served.stop() == 0, "".join(served.output)


def test_excluded_home_page_stays_with_the_cms(excluded: Served) -> None:
    client = excluded.client()
    with excluded.explained():
        home = client.get("/")
        assert home.status_code == 200
        assert "Welcome to your new Wagtail site" in home.text
        assert client.get("/auth/login").status_code == 200  # still flaskr's
        assert "Flaskr" in client.get("/auth/login").text
        assert client.get("/static/style.css").status_code == 200  # flaskr's file


def test_check_follows_the_scope(scoped_files: Projects) -> None:
    code, out, err = scoped_files.wsgihub("check", "excluded.ini")
    assert not re.search(r"flaskr:(blog\.)?index takes", out + err), out + err
    code, out, err = scoped_files.wsgihub("routes", "excluded.ini", "--grafts")
    assert code == 0, out + err
    assert re.search(r"flaskr takes \d+ of \d+ routes of cms", out), out
    assert "flaskr:static takes" in out
    # The home page routes are reported as left out of the graft, not as taken.
    taken, _, left_out = out.partition("out of scope")
    assert not re.search(r"flaskr:(blog\.)?index", taken), out
    assert "flaskr:index" in left_out and "flaskr:blog.index" in left_out, out
    # (the same report without the scope names them: test_grafted)


def test_only_takes_just_those_routes(scoped_files: Projects) -> None:
    served = scoped_files.serve("only_site:make_hub")
    client = served.client()
    try:
        with served.explained():
            assert "Flaskr" in client.get("/auth/register").text
            assert "Welcome to your new Wagtail site" in client.get("/").text
            # flaskr's post editor is not in the scope: the CMS answers (its slash redirect).
            create = client.get("/create")
            assert create.status_code == 301 and create.headers["Location"] == "/create/"
    finally:
        assert served.stop() == 0, "".join(served.output)


def test_moving_the_home_page_back_is_one_line_under_reload(scoped_files: Projects) -> None:
    """``serve --reload`` restarts with the site file: one added line gives ``/`` back to the CMS."""
    site = scoped_files.cms / "reloaded.ini"
    site.write_text(GRAFTED_INI)
    served = Served("reloaded.ini", scoped_files.cms, scoped_files.env, "--reload")
    try:
        with served.explained():
            assert "Flaskr" in served.client().get("/").text
            site.write_text(
                site.read_text().replace(
                    "graft flaskr = cms\n", "graft flaskr = cms\n" + EXCLUDE_LINE
                )
            )
            served.next_url()
            client = served.client()
            assert "Welcome to your new Wagtail site" in client.get("/").text
            assert "Flaskr" in client.get("/auth/login").text
    finally:
        assert served.stop() == 0, "".join(served.output)
