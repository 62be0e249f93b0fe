"""docs/tutorial.md, part 1, done as printed on a fresh ``django-admin startproject``.

Every fenced block of part 1 is taken in order: a block whose first line is
``# file: PATH`` (``{# file: PATH #}``, ``/* file: PATH */``) is written to
that path of the project (``(append)`` appends), and each ``$`` command of a
``console`` block is run there, the output lines shown under it (but ``...``)
expected in its output.  ``wsgihub serve`` runs on port 0 until its
``Serving on`` line, and the site is then used as the text says at that point.
Installing (``pip``, ``build-wheels.sh``) is the tox env's business.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ADMIN
from test_mounted import assert_assets_ok
from thirdparty_helpers import Client, Served, console_script, form_fields, run

pytestmark = pytest.mark.live

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
FILE = re.compile(r"^(?:#|\{#|/\*) file: (\S+)( \(append\))?(?: #\}| \*/)?$")
SKIPPED = ("bash scripts/build-wheels.sh", "pip install")


def part_one() -> str:
    text = TUTORIAL.read_text()
    start, end = text.index("## Part 1"), text.index("## Part 2")
    return text[start:end]


def blocks() -> Iterator[tuple[str, str]]:
    """``(language, body)`` of each fenced block of part 1, in order."""
    for match in FENCE.finditer(part_one()):
        yield match.group(1), match.group(2)


def commands(body: str) -> Iterator[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of a console block."""
    command: str | None = None
    expected: list[str] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, expected
            command, expected = line[2:].split("  #")[0].strip(), []
        elif command is not None:
            expected.append(line)
    if command is not None:
        yield command, expected


def normal(line: str) -> str:
    return " ".join(line.split())


def assert_shown(command: str, expected: list[str], output: str) -> None:
    """Each line the tutorial shows (but elisions) is a line of the real output."""
    actual = {normal(line) for line in output.splitlines()}
    missing = [
        line
        for line in expected
        if normal(line) and normal(line) != "..." and "…" not in line and normal(line) not in actual
    ]
    assert not missing, (
        f"$ {command}\nshown in the tutorial, not printed:\n"
        + "\n".join(missing)
        + f"\n--- printed ---\n{output}"
    )


# -- what the text says about each served site, in order of the `wsgihub serve` blocks -------


def django_alone(client: Client) -> None:
    """Step 1: the project as it was, the admin with its static files."""
    assert "My site" in client.get("/").text
    assert client.get("/admin/").headers["Location"] == "/admin/login/?next=/admin/"
    assert_assets_ok(client, client.get("/admin/login/"), expect_some=2)
    assert client.get("/static/admin/css/base.css").status_code == 200


def scoped_graft(client: Client) -> None:
    """Step 4: /reports/ still Django's, /whoami Flask's, both apps' static files."""
    assert "The old Django page." in client.get("/reports/").text
    whoami = client.get("/whoami")
    assert (whoami.status_code, whoami.headers["Location"]) == (
        302,
        "/admin/login/?next=%2Fwhoami",
    )
    css = client.get("/static/newpages.css")
    assert css.status_code == 200 and "#2a4d7a" in css.text
    assert_assets_ok(client, client.get("/admin/login/"), expect_some=2)


SERVED: list[Callable[[Client], None]] = [django_alone, scoped_graft]


def finished_site(client: Client) -> None:
    """Steps 5 and 6: links both ways, one login."""
    assert 'href="/whoami"' in client.get("/").text
    assert client.log_in("/admin/login/?next=/whoami", *ADMIN).headers["Location"] == "/whoami"
    page = client.get("/whoami")
    assert page.status_code == 200 and "Hello, admin" in page.text
    assert_assets_ok(client, page)
    assert 'href="/"' in page.text  # hub_url('legacy:home')
    token = form_fields(client.get("/admin/").text)["csrfmiddlewaretoken"]
    assert client.post("/admin/logout/", {"csrfmiddlewaretoken": token}).status_code == 200
    assert client.get("/whoami").status_code == 302


def test_the_tutorial_as_printed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {
        "DJANGO_SUPERUSER_USERNAME": ADMIN[0],
        "DJANGO_SUPERUSER_PASSWORD": ADMIN[1],
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
    }
    served_checks = iter(SERVED)
    ran: list[str] = []
    for language, body in blocks():
        first, _, rest = body.partition("\n")
        written = FILE.match(first)
        if written:
            path = project / written.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a" if written.group(2) else "w") as file:
                file.write(rest)
            continue
        if language != "console":
            continue
        for command, expected in commands(body):
            if command.startswith(SKIPPED):
                continue
            ran.append(command)
            words = shlex.split(command)
            if words[:2] == ["wsgihub", "serve"]:
                check = next(served_checks)
                site = words[2]
                served = Served(site, project, {})
                try:
                    with served.explained():
                        assert_shown(
                            command,
                            [line for line in expected if not line.startswith("Serving on")],
                            "".join(served.output),
                        )
                        check(served.client())
                finally:
                    assert served.stop() == 0, "".join(served.output)
                continue
            if words[0] == "django-admin":
                words[0] = console_script("django-admin")
            elif words[0] == "wsgihub":
                words[0] = console_script("wsgihub")
            elif words[0] == "python":
                words[0] = sys.executable
                if words[-1] == "createsuperuser":
                    words.append("--noinput")
            done = run(words, project, env)
            output = done.stdout + done.stderr
            if words[1:2] != ["check"]:  # check exits 1 when it warns, as the text says
                assert done.returncode == 0, f"$ {command}\n{output}"
            assert_shown(command, expected, output)
    assert next(served_checks, None) is None, "a check for a serve block the tutorial lost"
    assert any(c.startswith("wsgihub routes site.ini --grafts") for c in ran), ran
    served = Served("site.ini", project, {})
    try:
        with served.explained():
            finished_site(served.client())
    finally:
        assert served.stop() == 0, "".join(served.output)
