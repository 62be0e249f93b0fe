"""URLs across the seam, both ways, and one login: what a user adds to their own projects.

``cross_site.py`` (written by the ``projects`` fixture, as a user would write
it) mounts the Wagtail project at ``/`` with a settings module that adds
``wsgihub_django`` and a URL conf that adds two pages, and flaskr at
``/blog`` with three more routes: a redirect into Wagtail's admin
(``wsgihub.url_for``), a link to the Django admin (``hub_url()``), and a page
that shows the CMS's logged-in user (``wsgihub_flask.current_user``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import ADMIN, Projects
from thirdparty_helpers import Served

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=["mounted", "grafted"])
def cross(request: pytest.FixtureRequest, projects: Projects) -> Iterator[tuple[Served, str]]:
    """The cross-linked site, flaskr mounted at /blog or grafted over the CMS: (server, prefix)."""
    site, prefix = {
        "mounted": ("cross_site:make_hub", "/blog"),
        "grafted": ("cross_site:make_grafted_hub", ""),
    }[request.param]
    served = projects.serve(site)
    try:
        yield served, prefix
    finally:
        assert served.stop() == 0, "".join(served.output)


def test_django_to_flask(cross: tuple[Served, str]) -> None:
    served, prefix = cross
    client = served.client()
    with served.explained():
        redirected = client.get("/to-flaskr/")
        assert (redirected.status_code, redirected.headers["Location"]) == (
            302,
            f"{prefix}/auth/login",
        )
        links = client.get("/flaskr-links/")
        assert links.status_code == 200
        assert f"href='{prefix}/auth/register'" in links.text
        assert client.get(f"{prefix}/auth/register").status_code == 200


def test_flask_to_django(cross: tuple[Served, str]) -> None:
    served, prefix = cross
    client = served.client()
    with served.explained():
        redirected = client.get(f"{prefix}/to-admin")
        assert (redirected.status_code, redirected.headers["Location"]) == (302, "/admin/")
        links = client.get(f"{prefix}/cms-links")
        assert links.status_code == 200 and "href='/django-admin/'" in links.text


def test_flask_knows_the_cms_login(cross: tuple[Served, str]) -> None:
    served, prefix = cross
    client = served.client()
    with served.explained():
        anonymous = client.get(f"{prefix}/whoami")
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].startswith("/admin/login/")
        assert client.log_in("/admin/login/", *ADMIN).status_code == 302
        me = client.get(f"{prefix}/whoami")
        assert me.status_code == 200 and f"<p id='user'>{ADMIN[0]}</p>" in me.text
        # Logging out on the CMS (Wagtail's logout is a POST with the CSRF token) ends it here too.
        from thirdparty_helpers import form_fields

        token = form_fields(client.get("/admin/").text).get("csrfmiddlewaretoken") or (
            client.session.cookies.get("csrftoken")
        )
        out = client.post("/admin/logout/", {"csrfmiddlewaretoken": token or ""})
        assert out.status_code == 302, out.text[:500]
        assert client.get(f"{prefix}/whoami").status_code == 302
