"""Static files of a real ``django-admin startproject`` project, served by ``wsgihub serve``.

The project is made at test time by Django's own starter command, mounted
at ``/`` and at ``/legacy``, and served in a process of its own (Django has
one settings module per process):

- with ``DEBUG`` on and no ``static`` key, as ``runserver`` serves them
  (``django.contrib.staticfiles``' finders);
- after a real ``collectstatic`` into the test's folder, with ``DEBUG`` off
  and ``static = whitenoise``: WhiteNoise's cache headers and compressed
  variants;
- the route table lists them (``root:django.contrib.staticfiles``), and the
  modes are checked in one line (``[app:legacy] static: ...``).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from djsite_testing import wsgihub_script

pytestmark = pytest.mark.live

BASE_CSS = "/static/admin/css/base.css"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "DJSITE_DB")}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh ``django-admin startproject legacy .`` folder (DEBUG on, STATIC_URL 'static/')."""
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "legacy", "."],
        cwd=tmp_path, env=_env(), check=True, capture_output=True, timeout=120,
    )
    settings = (tmp_path / "legacy" / "settings.py").read_text()
    assert "DEBUG = True" in settings and "STATIC_URL = 'static/'" in settings.replace('"', "'")
    return tmp_path


def _site(folder: Path, root: str = "", legacy: str = "", other: str | None = None) -> Path:
    """``/`` and ``/legacy`` (two sections, one project), perhaps ``/other``; extra keys per section."""
    text = "[composite:main]\nuse = egg:wsgihub#hub\n/ = root\n/legacy = legacy\n"
    if other is not None:
        text += "/other = other\n"
    sections = {"root": root, "legacy": legacy, **({"other": other} if other is not None else {})}
    for name, extra in sections.items():
        text += f"\n[app:{name}]\nuse = egg:wsgihub-django#app\nsettings = legacy.settings\n{extra}"
    site = folder / "site.ini"
    site.write_text(text)
    return site


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class Served:
    """``wsgihub serve site.ini --port 0`` in the project folder (waitress), until stopped."""

    def __init__(self, folder: Path) -> None:
        self.log = (folder / "serve.err").open("w+")
        self.proc = subprocess.Popen(
            [*wsgihub_script(), "serve", "site.ini", "--port", "0"],
            cwd=folder, env={**_env(), "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # each line as it comes; EOF if the server fails to start
            found = re.match(r"Serving on http://127\.0\.0\.1:(\d+)$", line.strip())
            if found:
                self.port = int(found.group(1))
                break
        else:
            self.proc.wait(30)
            self.log.seek(0)
            pytest.fail(f"wsgihub serve exited {self.proc.returncode}: {self.log.read()}")

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
        """``path`` sent as it is (no client-side normalising of ``..`` or escapes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture
def serve(project: Path) -> Iterator[Callable[[Path], Served]]:
    started: list[Served] = []

    def start(folder: Path) -> Served:
        server = Served(folder)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _django_file(relative: str) -> bytes:
    import django

    return (Path(django.__file__).parent / "contrib" / "admin" / "static" / relative).read_bytes()


# -- DEBUG on: as runserver serves them ---------------------------------------------------------
def test_a_stock_project_serves_its_static_files_as_runserver_does(project: Path, serve: Callable[[Path], Served]) -> None:
    _site(project)
    server = serve(project)
    expected = _django_file("admin/css/base.css")
    for prefix in ("", "/legacy"):
        got = server.request("GET", prefix + BASE_CSS)
        assert got.status == 200, (prefix, got)
        assert got.headers["content-type"].startswith("text/css")
        assert got.body == expected
        head = server.request("HEAD", prefix + BASE_CSS)
        assert (head.status, head.body) == (200, b"")
        assert head.headers["content-length"] == str(len(expected))
        # a file of another app's static folder and a missing one
        assert server.request("GET", prefix + "/static/admin/js/core.js").status == 200
        assert server.request("GET", prefix + "/static/admin/css/nope.css").status == 404
        assert server.request("GET", prefix + "/static/admin/").status == 404  # no directory indexes
        # the admin page that links them works too
        assert server.request("GET", prefix + "/admin/login/").status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/../legacy/settings.py",
        "/static/%2e%2e/legacy/settings.py",
        "/static/%2E%2E/%2e%2e/legacy/settings.py",
        "/static/%252e%252e/legacy/settings.py",
        "/static/admin/../../legacy/settings.py",
        "/static/..%2flegacy/settings.py",
        "/legacy/static/../settings.py",
        "/static//etc/passwd",
        "/static/%2fetc/passwd",
    ],
)
def test_no_path_leaves_the_static_folders(project: Path, serve: Callable[[Path], Served], path: str) -> None:
    _site(project)
    server = serve(project)
    got = server.request("GET", path)
    assert got.status in (400, 404), (path, got.status)
    secret = re.search(r"SECRET_KEY = '([^']+)'", (project / "legacy" / "settings.py").read_text())
    assert secret is not None
    assert secret.group(1).encode() not in got.body and b"root:x:0" not in got.body


def test_the_route_table_lists_the_static_files_of_each_mount(project: Path) -> None:
    _site(project)
    done = subprocess.run(
        [*wsgihub_script(), "routes", "site.ini", "--json"],
        cwd=project, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    rows = rows["routes"] if isinstance(rows, dict) else rows
    static = sorted((r["name"], r["rule"]) for r in rows if r["name"].endswith(":django.contrib.staticfiles"))
    assert static == [
        ("legacy:django.contrib.staticfiles", "/legacy/static/<path:path>"),
        ("root:django.contrib.staticfiles", "/static/<path:path>"),
    ]


def _python(folder: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=folder, env={**_env(), "PYTHONPATH": str(folder)}, capture_output=True, text=True, timeout=120,
        check=False,
    )


def test_python_api_modes_grafts_and_urls(project: Path) -> None:
    """The same from Python: url_for, a graft of the project, DEBUG off, ``off``, STATIC_URL left alone."""
    _site(project, legacy="static = off\n")
    done = _python(
        project,
        """
        import warnings
        warnings.simplefilter("ignore")
        import wsgihub, wsgihub.errors
        from wsgihub.testing import call
        from django.conf import settings
        hub = wsgihub.load("config:site.ini")
        print(hub.url_for("root:django.contrib.staticfiles", path="admin/css/base.css"))
        print(hub.url_for("legacy:django.contrib.staticfiles", path="admin/css/a b.css"))
        # serving a file leaves settings.STATIC_URL unread (Django would keep its script prefix;
        # Django's DEBUG 404 page below reads every setting)
        print(call(hub, "/static/admin/css/base.css").code, "STATIC_URL" in settings.__dict__)
        print(call(hub, "/legacy/static/admin/css/base.css").code)

        # grafted over a plain app, the project still answers its static files
        def plain(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"plain"]
        from django.core.wsgi import get_wsgi_application
        from wsgihub_django.static import serve_static
        grafted = wsgihub.Hub()
        grafted.mount("/", plain, name="plain")
        grafted.graft(serve_static(get_wsgi_application(), "insecure"), over="plain", name="dj")
        print(call(grafted, "/static/admin/css/base.css").code, call(grafted, "/anything").body)

        # DEBUG off: auto serves nothing (as runserver), insecure does
        settings.DEBUG, settings.ALLOWED_HOSTS = False, ["localhost"]
        off = wsgihub.Hub()
        off.mount("/", get_wsgi_application(), name="off")
        off.mount("/x", serve_static(get_wsgi_application(), "insecure"), name="x")
        print(call(off, "/static/admin/css/base.css").code, call(off, "/x/static/admin/css/base.css").code)
        try:
            serve_static(get_wsgi_application(), "whitenoise")
        except wsgihub.errors.ConfigError as exc:
            print("error:", exc)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "/static/admin/css/base.css",
        "/legacy/static/admin/css/a%20b.css",
        "200 False",
        "404",
        "200 b'plain'",
        "404 200",
        "error: whitenoise serves what `manage.py collectstatic` puts in STATIC_ROOT: set STATIC_ROOT in the settings",
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("static = sometimes\n", "[app:legacy] static: 'sometimes' is not one of auto, insecure, whitenoise, off"),
        (
            "static = whitenoise\n",
            (
                "[app:legacy] static: whitenoise serves what `manage.py collectstatic` puts in "
                "STATIC_ROOT: set STATIC_ROOT in the settings"
            ),
        ),
    ],
    ids=["unknown", "no-static-root"],
)
def test_a_bad_static_key_is_one_line(project: Path, extra: str, expected: str) -> None:
    site = _site(project, legacy=extra)
    done = subprocess.run(
        [*wsgihub_script(), "check", "site.ini"],
        cwd=project, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert (done.returncode, done.stdout) == (2, ""), done
    assert done.stderr == f"wsgihub: error: {site.name}: {expected}\n" or done.stderr == (
        f"wsgihub: error: {site}: {expected}\n"
    ), done.stderr


# -- production: collectstatic + WhiteNoise -----------------------------------------------------
PRODUCTION = """

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
STATIC_ROOT = BASE_DIR / "collected"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
"""


def test_collectstatic_and_whitenoise_serve_with_cache_headers(project: Path, serve: Callable[[Path], Served]) -> None:
    pytest.importorskip("whitenoise")
    settings = project / "legacy" / "settings.py"
    settings.write_text(settings.read_text() + PRODUCTION)
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=project, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )
    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((project / "collected" / "staticfiles.json").read_text())["paths"]
    hashed = "/static/" + manifest["admin/css/base.css"]
    assert hashed != BASE_CSS
    # / and /legacy by WhiteNoise; /other left as DEBUG-off runserver leaves it (nothing)
    _site(project, root="static = whitenoise\n", legacy="static = whitenoise\n", other="")
    server = serve(project)
    expected = _django_file("admin/css/base.css")
    for prefix in ("", "/legacy"):
        plain = server.request("GET", prefix + BASE_CSS)
        assert plain.status == 200 and plain.body == expected
        assert plain.headers["content-type"].startswith("text/css")
        assert plain.headers["cache-control"] == "max-age=60, public"
        assert plain.headers["vary"] == "Accept-Encoding"
        forever = server.request("GET", prefix + hashed)
        assert forever.status == 200
        assert forever.headers["cache-control"] == "max-age=315360000, public, immutable"
        zipped = server.request("GET", prefix + hashed, {"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert gzip.decompress(zipped.body) == forever.body and len(zipped.body) < len(forever.body)
        head = server.request("HEAD", prefix + BASE_CSS)
        assert (head.status, head.body) == (200, b"")
        again = server.request("GET", prefix + hashed, {"If-None-Match": forever.headers["etag"]})
        assert again.status == 304
        assert server.request("GET", prefix + "/static/admin/css/nope.css").status == 404
        assert server.request("GET", prefix + "/static/../legacy/settings.py").status == 404
        assert server.request("GET", prefix + "/static/%2e%2e/legacy/settings.py").status == 404
        assert server.request("GET", prefix + "/admin/login/").status == 200
    assert server.request("GET", "/other" + BASE_CSS).status == 404


# -- a Flask app grafted over the project: the check names the static route, the files still work ----
def test_a_flask_graft_over_the_project_is_checked_and_keeps_the_static_files(
    project: Path, serve: Callable[[Path], Served]
) -> None:
    pytest.importorskip("wsgihub_flask")
    (project / "blogapp.py").write_text(
        "import flask\napp = flask.Flask('blog')\n\n@app.route('/hello')\ndef hello():\n    return 'hi'\n"
    )
    (project / "site.ini").write_text(
        "[composite:main]\nuse = egg:wsgihub#hub\n/ = root\ngraft blog = root\n\n"
        "[app:root]\nuse = egg:wsgihub-django#app\nsettings = legacy.settings\n\n"
        "[app:blog]\nuse = egg:wsgihub-flask#app\napp = blogapp:app\n"
    )
    done = subprocess.run(
        [*wsgihub_script(), "check", "site.ini"],
        cwd=project, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 1, done
    assert "blog:static takes '/static/<path:path>' from root:django.contrib.staticfiles" in done.stdout
    server = serve(project)
    assert server.request("GET", "/hello").body == b"hi"
    got = server.request("GET", BASE_CSS)  # Flask's static 404 falls through to the project
    assert (got.status, got.body) == (200, _django_file("admin/css/base.css"))
    assert server.request("GET", "/admin/login/").status == 200


def test_whitenoise_before_collectstatic_is_a_check_warning(project: Path) -> None:
    pytest.importorskip("whitenoise")
    settings = project / "legacy" / "settings.py"
    settings.write_text(settings.read_text() + '\nSTATIC_ROOT = BASE_DIR / "collected"\n')
    _site(project, root="static = whitenoise\n", legacy="static = whitenoise\n")
    done = subprocess.run(
        [*wsgihub_script(), "check", "site.ini"],
        cwd=project, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 1, done
    root = project / "collected"
    assert (
        f"mount 'root': static = whitenoise but STATIC_ROOT {str(root)!r} is not a directory: "
        "run `python manage.py collectstatic` before serving"
    ) in done.stdout
