"""Projects nobody here wrote, made the way their users make them, at test time.

- **Wagtail** (a Django CMS: page tree, its own admin, the Django admin,
  static files, middleware, CSRF): ``wagtail start mysite``, then
  ``manage.py migrate`` and ``manage.py createsuperuser``, as Wagtail's
  getting-started guide says.  Settings ``mysite.settings.dev`` (``DEBUG``).
- **Stock Django**: ``django-admin startproject stock`` with its admin (relative
  ``STATIC_URL = "static/"``, no static route in its URL conf), migrated.
- **flaskr**, Flask's own tutorial app (blueprints, templates, a static
  stylesheet, registration and login, a SQLite database): from the Flask sdist
  on PyPI (``pip download flask --no-binary :all:``, ``examples/tutorial``),
  its database made with its own ``flask --app flaskr init-db``.

Nothing of them is kept in this repository: each session makes them afresh
in a temporary directory, with the versions the env installed.  The site
files that put them together (what a user writes) are written beside them;
every server is ``wsgihub serve`` in a subprocess (Django allows one settings
module per process, and a user runs the command).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from thirdparty_helpers import Served, console_script, run

#: The superuser made with ``createsuperuser --noinput`` in both Django projects.
ADMIN = ("admin", "thirdparty-admin-pw")

MOUNTED_INI = """\
# Side by side: the CMS owns the site, flaskr lives under /blog.
[composite:main]
use = egg:wsgihub#hub
trusted_hosts = 127.0.0.1 localhost
/ = cms
/blog = flaskr

[app:cms]
use = egg:wsgihub-django#app
settings = mysite.settings.dev

[app:flaskr]
use = egg:wsgihub-flask#app
app = flaskr:create_app
"""

#: The issue's setup: ``graft flaskr = cms``, all defaults.
GRAFTED_INI = MOUNTED_INI.replace(
    "# Side by side: the CMS owns the site, flaskr lives under /blog.",
    "# Grafted: flaskr's routes take their URLs in the CMS's own URL space.",
).replace("/blog = flaskr", "graft flaskr = cms")

#: A scoped graft in Python: flaskr takes its login pages, its post editor and
#: its static files, not the home page (what a team moving one part would write).
SCOPED_SITE = '''\
"""flaskr grafted over the Wagtail site, scoped: the CMS keeps its home page."""
import os

import wsgihub


def make_hub():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings.dev")
    from django.core.wsgi import get_wsgi_application
    from flaskr import create_app

    hub = wsgihub.Hub(trusted_hosts=("127.0.0.1", "localhost"))
    hub.mount("/", get_wsgi_application(), name="cms")
    hub.graft(create_app(), over="cms", name="flaskr", exclude=["index", "blog.index"])
    return hub
'''

#: Cross-app URLs both ways, written as a user grafting onto their own project
#: would: a settings module and a URL conf that extend the project's, and a
#: Python site file that adds two routes to flaskr.
CROSS_SETTINGS = '''\
"""The Wagtail project's settings, plus wsgihub's template tags."""
from mysite.settings.dev import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "wsgihub_django"]  # noqa: F405
ROOT_URLCONF = "cross_urls"
'''

CROSS_URLS = '''\
"""The project's URL conf, plus two pages that point into flaskr."""
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import path

import wsgihub
from mysite.urls import urlpatterns as project_urlpatterns

LINKS = engines["django"].from_string(
    "{% load wsgihub %}<a id='register' href='{% hub_url \\"flaskr:auth.register\\" %}'>register</a>"
)


def to_flaskr(request):
    return redirect(wsgihub.url_for("flaskr:auth.login"))


def links(request):
    return HttpResponse(LINKS.render({}, request))


urlpatterns = [
    path("to-flaskr/", to_flaskr),
    path("flaskr-links/", links),
    *project_urlpatterns,
]
'''

CROSS_SITE = '''\
"""The Wagtail site at /, flaskr at /blog, linking to each other."""
import os

from flask import redirect, render_template_string

import wsgihub


def flaskr_with_links():
    from flaskr import create_app

    app = create_app()

    @app.get("/to-admin")
    def to_admin():
        return redirect(wsgihub.url_for("cms:wagtailadmin_home"))

    @app.get("/cms-links")
    def cms_links():
        return render_template_string(
            "<a id='admin' href='{{ hub_url(\\"cms:admin:index\\") }}'>Django admin</a>"
        )

    @app.get("/whoami")
    def whoami():
        # The CMS's login, read through the hub (wsgihub_flask.current_user).
        from wsgihub_flask import current_user

        if not current_user.is_authenticated:
            return redirect(wsgihub.url_for("cms:wagtailadmin_login") + "?next=/blog/whoami")
        return render_template_string("<p id='user'>{{ hub_user.username }}</p>")

    return app


def make_hub(graft=False):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cross_settings")
    from django.core.wsgi import get_wsgi_application

    hub = wsgihub.Hub(trusted_hosts=("127.0.0.1", "localhost"))
    hub.mount("/", get_wsgi_application(), name="cms")
    if graft:
        hub.graft(flaskr_with_links(), over="cms", name="flaskr")
    else:
        hub.mount("/blog", flaskr_with_links(), name="flaskr")
    return hub


def make_grafted_hub():
    return make_hub(graft=True)
'''

STOCK_INI = """\
# A stock `django-admin startproject` mounted at /site.
[composite:main]
use = egg:wsgihub#hub
trusted_hosts = 127.0.0.1 localhost
/site = stock

[app:stock]
use = egg:wsgihub-django#app
settings = stock.settings
"""

#: flaskr grafted over the stock project at /site: both below the prefix.
STOCK_GRAFTED_INI = (
    STOCK_INI.replace("/site = stock", "/site = stock\ngraft flaskr = stock")
    + """
[app:flaskr]
use = egg:wsgihub-flask#app
app = flaskr:create_app
"""
)


@dataclass(frozen=True)
class Projects:
    """Where the third-party projects were made, and the environment to serve them with."""

    root: Path
    cms: Path  # the Wagtail project (manage.py, mysite/, home/, search/), site files beside it
    flaskr: Path  # Flask's examples/tutorial (the flaskr package, its instance/ database)
    stock: Path  # the stock startproject (manage.py, stock/)

    @property
    def env(self) -> dict[str, str]:
        """flaskr on the path (a user would ``pip install`` it: same import)."""
        return {"PYTHONPATH": str(self.flaskr)}

    def serve(self, site: str, *args: str, cwd: Path | None = None) -> Served:
        """``wsgihub serve SITE --port 0`` in the CMS's directory (cwd on ``sys.path``)."""
        return Served(site, cwd or self.cms, self.env, *args)

    def wsgihub(self, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
        """Run the ``wsgihub`` command: (exit code, stdout, stderr)."""
        done = run([console_script("wsgihub"), *args], cwd or self.cms, self.env)
        return done.returncode, done.stdout, done.stderr


def _must(done: object, what: str) -> None:
    import subprocess

    assert isinstance(done, subprocess.CompletedProcess)
    if done.returncode != 0:
        raise AssertionError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _flaskr(root: Path) -> Path:
    """Flask's tutorial app from the sdist of the Flask this env runs, with its database made."""
    version = importlib.metadata.version("flask")
    download = root / "download"
    import sys

    done = run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", "--dest", str(download), f"flask=={version}",
        ],
        root,
    )  # fmt: skip
    _must(done, f"pip download flask=={version} --no-binary :all:")
    (sdist,) = download.glob("flask-*.tar.gz")
    prefix = f"{sdist.name[: -len('.tar.gz')]}/examples/tutorial/"
    target = root / "flaskr-tutorial"
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        for member in members:
            member.name = member.name[len(prefix) :]
        tar.extractall(target, members=[m for m in members if m.name], filter="data")
    assert (target / "flaskr" / "__init__.py").exists(), f"no examples/tutorial in {sdist.name}"
    _must(run([sys.executable, "-m", "flask", "--app", "flaskr", "init-db"], target), "init-db")
    return target


def _django_project(root: Path, command: list[str], name: str) -> Path:
    """A project made by its starter command, migrated, with the superuser :data:`ADMIN`."""
    import sys

    target = root / name
    target.mkdir()
    _must(run([*command, str(target)], root), " ".join(command))
    env = {
        "DJANGO_SUPERUSER_USERNAME": ADMIN[0],
        "DJANGO_SUPERUSER_PASSWORD": ADMIN[1],
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
    }
    manage = [sys.executable, "manage.py"]
    _must(run([*manage, "migrate", "--noinput", "-v0"], target, env), f"{name}: migrate")
    _must(run([*manage, "createsuperuser", "--noinput"], target, env), f"{name}: createsuperuser")
    return target


@pytest.fixture(scope="session")
def projects() -> Iterator[Projects]:
    pytest.importorskip("wagtail", reason="the thirdparty tox env installs Wagtail")
    root = Path(tempfile.mkdtemp(prefix="thirdparty-", dir=os.environ.get("WSGIHUB_TEST_TMP")))
    try:
        flaskr = _flaskr(root)
        cms = _django_project(root, [console_script("wagtail"), "start", "mysite"], "cms")
        stock = _django_project(
            root, [console_script("django-admin"), "startproject", "stock"], "stock"
        )
        (cms / "mounted.ini").write_text(MOUNTED_INI)
        (cms / "grafted.ini").write_text(GRAFTED_INI)
        (cms / "scoped_site.py").write_text(SCOPED_SITE)
        (cms / "cross_settings.py").write_text(CROSS_SETTINGS)
        (cms / "cross_urls.py").write_text(CROSS_URLS)
        (cms / "cross_site.py").write_text(CROSS_SITE)
        (stock / "site.ini").write_text(STOCK_INI)
        (stock / "grafted.ini").write_text(STOCK_GRAFTED_INI)
        yield Projects(root=root, cms=cms, flaskr=flaskr, stock=stock)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _served(projects: Projects, site: str, cwd: Path | None = None) -> Iterator[Served]:
    served = projects.serve(site, cwd=cwd)
    try:
        yield served
    finally:
        code = served.stop()
        assert code == 0, f"wsgihub serve {site} exited {code}:\n{''.join(served.output)}"


@pytest.fixture(scope="module")
def mounted(projects: Projects) -> Iterator[Served]:
    """``mounted.ini``: Wagtail at ``/``, flaskr at ``/blog``."""
    yield from _served(projects, "mounted.ini")


@pytest.fixture(scope="module")
def grafted(projects: Projects) -> Iterator[Served]:
    """``grafted.ini``: ``graft flaskr = cms`` with every default."""
    yield from _served(projects, "grafted.ini")
