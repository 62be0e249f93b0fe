"""Installing into an existing project (issue 11 §1), exactly as docs/deployment.md says.

``bash scripts/build-wheels.sh DIR`` builds every distribution of this
repository into DIR; then, in a fresh virtualenv next to a user's project,
``pip install --find-links DIR 'wsgihub[gunicorn]' wsgihub-django
wsgihub-flask`` takes the wsgihub wheels from DIR and Django, Flask,
gunicorn... from the package index.  The project -- a real ``django-admin
startproject`` plus a Flask module and a site file using the adapters'
``egg:`` entry points -- is then served by the virtualenv's own ``wsgihub
serve`` under waitress and under gunicorn, and both frameworks answer 200.
wsgihub's wheel is compiled (its access-log module, with mypyc) where the
machine has a C compiler.

Needs the package index (PyPI or the machine's mirror) and takes a minute
or two: the wheels are built and the dependencies installed once per run.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"^Serving on (http://\S+)$")

pytestmark = pytest.mark.live

SITE_INI = """\
[composite:main]
use = egg:wsgihub#hub
/ = legacy
/new = new

[app:legacy]
use = egg:wsgihub-django#app
settings = legacy.settings

[app:new]
use = egg:wsgihub-flask#app
app = newsite:app
"""

NEWSITE = """\
import flask

app = flask.Flask("newsite")


@app.route("/hello")
def hello():
    return "flask says hello"
"""

DJANGO_VIEW = """

from django.http import HttpResponse


def hello(request):
    return HttpResponse("django says hello")


urlpatterns += [path("hello/", hello, name="hello")]
"""


def _clean_env() -> dict[str, str]:
    """This process's environment without anything pointing at the checkout or its env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "WSGIHUB_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(argv: list[str], cwd: Path, timeout: float = 600, **env: str) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env={**_clean_env(), **env}, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """``(virtualenv, project)``: the wheels built, installed, and a project beside them."""
    base = tmp_path_factory.mktemp("install")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"

    # built with the fresh virtualenv's Python, which has nothing but pip: what the
    # build needs (setuptools, mypy to compile) comes from pip's isolated build
    wheels = base / "wheels"
    out = _run(["bash", str(ROOT / "scripts" / "build-wheels.sh"), str(wheels)], cwd=base, PYTHON=str(python))
    built = sorted(Path(line).name.split("-")[0] for line in out.split())
    assert built == ["wsgihub", "wsgihub_django", "wsgihub_flask", "wsgihub_pyramid", "wsgihub_starlette", "wsgihub_werkzeug"]
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--find-links", str(wheels), "wsgihub[gunicorn]", "wsgihub-django", "wsgihub-flask"],
        cwd=base,
    )

    project = base / "project"
    project.mkdir()
    _run([str(env_dir / "bin" / "django-admin"), "startproject", "legacy", "."], cwd=project)
    with open(project / "legacy" / "urls.py", "a", encoding="utf-8") as urls:
        urls.write(DJANGO_VIEW)
    (project / "newsite.py").write_text(NEWSITE)
    (project / "site.ini").write_text(SITE_INI)
    yield env_dir, project


class _Served:
    """The virtualenv's ``wsgihub serve`` in the project directory (its own session)."""

    def __init__(self, env_dir: Path, project: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(env_dir / "bin" / "wsgihub"), "serve", "site.ini", "--port", "0", *args],
            cwd=project,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def url(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no 'Serving on' line within {timeout} s: {self.output}") from None
            if line is None:
                raise AssertionError(f"wsgihub serve exited ({self.proc.wait()}): {self.output}")
            match = SERVING.match(line)
            if match:
                return match.group(1)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("server", [[], ["--workers", "1"]], ids=["waitress", "gunicorn"])
def test_wheels_install_and_serve_a_django_and_flask_site(installed: tuple[Path, Path], server: list[str]) -> None:
    env_dir, project = installed
    # the installed wsgihub, not this checkout's
    where = _run([str(env_dir / "bin" / "python"), "-c", "import wsgihub; print(wsgihub.__file__)"], cwd=project)
    assert str(env_dir) in where and str(ROOT) not in where
    # compiled (mypyc) where the machine has a C compiler, as build-wheels.sh says
    compiled = _run([str(env_dir / "bin" / "python"), "-c", "from wsgihub import accesslines; print(accesslines.COMPILED)"], cwd=project)
    assert compiled.strip() == str(bool(shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")))

    served = _Served(env_dir, project, "--access-log", "-", *server)
    try:
        url = served.url()
        django_answer = requests.get(url + "/hello/", timeout=10)
        flask_answer = requests.get(url + "/new/hello", timeout=10)
        assert (django_answer.status_code, django_answer.text) == (200, "django says hello")
        assert (flask_answer.status_code, flask_answer.text) == (200, "flask says hello")
    finally:
        code = served.stop()
    assert code == 0, served.output
    assert any(" legacy hello " in line for line in served.output), served.output
    assert any(" new hello " in line for line in served.output), served.output


def test_the_documented_commands_are_the_ones_tested() -> None:
    """docs/deployment.md shows this very build command and install line."""
    docs = (ROOT / "docs" / "deployment.md").read_text()
    assert "bash scripts/build-wheels.sh" in docs
    assert "pip install --find-links dist/wheels 'wsgihub[gunicorn]' wsgihub-django wsgihub-flask" in docs


#: A wsgihub distribution named as a requirement (not a path such as ./wsgihub-whoami).
_OUR_DISTRIBUTION = re.compile(r"^'?\"?wsgihub(-[a-z]+)?(\[[a-z,]+\])?'?\"?$")


def _install_lines() -> Iterator[tuple[str, str]]:
    """``(file, command)`` for each ``pip install`` in the docs, READMEs and wsgihub's own messages."""
    files = [*ROOT.glob("docs/**/*.md"), *ROOT.glob("wsgihub/**/*.py"), *ROOT.glob("*.md"), *ROOT.glob("adapters/*/README.md")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"pip install", text):
            # a command may wrap inside a paragraph; it ends at a backtick, a comment or a line of its own
            tail = re.split(r"`|#|\n\s*(?:\$|`|\n)|\(|\)", text[match.end() : match.end() + 160], maxsplit=1)[0]
            yield str(path.relative_to(ROOT)), "pip install" + " ".join(tail.split()).join("  ")


def test_every_install_line_can_work() -> None:
    """wsgihub is not on PyPI: every line installing one of its distributions says where from."""
    bad = []
    for where, command in _install_lines():
        words = command.split()
        ours = [w for w in words[2:] if _OUR_DISTRIBUTION.match(w)]
        if ours and "--find-links" not in words and "-e" not in words:
            bad.append(f"{where}: {command.strip()}")
    assert not bad, "install lines naming wsgihub distributions without a wheel folder:\n" + "\n".join(bad)
