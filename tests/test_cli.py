"""The ``wsgihub`` command, through ``wsgihub.cli.main(argv)`` and once as a real process.

The sites are real: test modules and a real ``*.dist-info`` distribution
(``wsgihub-tables``, entry point ``tables`` in the ``wsgihub`` group) in
``tmp_path`` on ``sys.path``.  The CLI builds its own hub with the installed
plugins, so the adapter arrives through entry-point loading end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from wsgihub.cli import main
from wsgihub.errors import DeployError
from wsgihub.testing import console_script

PLUGIN_SOURCE = '''
"""wsgihub-tables: an adapter for TableApp, the testing kit's reference framework under another name."""
from wsgihub import hookimpl
from wsgihub.adapter import detect
from wsgihub.testing import ReferenceAdapter, ReferenceApp


class TableApp(ReferenceApp):
    """Routes ``{endpoint: "/rule/<name>"}``; every routed request answers ``table``."""

    def __init__(self, table):
        super().__init__("table", table)

    def render(self, environ, endpoint, values):
        return "table"


class Odd:
    """Middleware that keeps its app where nobody looks (see wsgihub_unwrap)."""

    def __init__(self, inner):
        self.inner_thing = inner

    def __call__(self, environ, start_response):
        return self.inner_thing(environ, start_response)


class TableAdapter(ReferenceAdapter):
    framework = "table"


@hookimpl
def wsgihub_adapter(app, layers, framework):
    return detect(layers, framework, name="table", module=__name__, classname="TableApp", factory=TableAdapter)


@hookimpl
def wsgihub_unwrap(obj):
    return [obj.inner_thing] if isinstance(obj, Odd) else None
'''

SITE_SOURCE = '''
"""The apps of the test site."""
import wsgihub
from wsgihub_cli_tables import Odd, TableApp


def home(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"home"]


tables = TableApp({"index": "/", "user": "/u/<uid>"})
hidden = Odd(TableApp({"page": "/page"}))
shadowing = TableApp({"front": "/", "inner": "/t/page"})


def make_home(global_conf):
    return home


def make_tables(global_conf, **options):
    return tables


def make_hub():
    hub = wsgihub.Hub()
    hub.mount("/t", tables)
    return hub
'''

SITE_INI = """\
[composite:main]
use = egg:wsgihub#hub
public_url = https://example.com
/ = home
/t = tables

[app:home]
use = call:cli_site_apps:make_home

[app:tables]
use = call:cli_site_apps:make_tables
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` on ``sys.path`` with the site modules and the installed plugin."""
    (tmp_path / "wsgihub_cli_tables.py").write_text(PLUGIN_SOURCE)
    (tmp_path / "cli_site_apps.py").write_text(SITE_SOURCE)
    (tmp_path / "cli_site_broken.py").write_text("app = undefined_name + 1\n")
    dist = tmp_path / "wsgihub_tables-0.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wsgihub-tables\nVersion: 0.3\n")
    (dist / "entry_points.txt").write_text("[wsgihub]\ntables = wsgihub_cli_tables\n")
    (tmp_path / "site.ini").write_text(SITE_INI)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WSGIHUB_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("WSGIHUB_BLOCK_PLUGINS", raising=False)
    yield tmp_path
    for name in ("wsgihub_cli_tables", "cli_site_apps", "cli_site_broken"):
        sys.modules.pop(name, None)


MOUNTS = ["--mount", "/=cli_site_apps:home", "--mount", "/t=cli_site_apps:tables"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- routes -------------------------------------------------------------------------------------
def test_routes_table_from_mounts(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "routes", *MOUNTS)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "NAME     METHODS   RULE          FRAMEWORK",
        "root     *         /<path:rest>  wsgi",
        "t:index  GET,HEAD  /t/           table",
        "t:user   GET,HEAD  /t/u/<uid>    table",
    ]


def test_routes_json_from_mounts(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "routes", "--json", *MOUNTS)
    assert code == 0
    assert json.loads(out) == [
        {"name": "root", "mount": "root", "endpoint": None, "rule": "/<path:rest>", "methods": None, "framework": None, "grafted": False, "taken_by": []},
        {"name": "t:index", "mount": "t", "endpoint": "index", "rule": "/t/", "methods": ["GET", "HEAD"], "framework": "table", "grafted": False, "taken_by": []},
        {"name": "t:user", "mount": "t", "endpoint": "user", "rule": "/t/u/<uid>", "methods": ["GET", "HEAD"], "framework": "table", "grafted": False, "taken_by": []},
    ]


def test_routes_from_a_pastedeploy_ini(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for spec in ("site.ini", "config:site.ini", str(site / "site.ini"), "site.ini#main"):
        code, out, err = run(capsys, "routes", "--json", spec)
        assert (code, err) == (0, ""), spec
        assert [r["name"] for r in json.loads(out)] == ["home", "tables:index", "tables:user"], spec


def test_routes_from_a_hub_factory(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "routes", "--json", "cli_site_apps:make_hub")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["t:index", "t:user"]


def test_routes_see_through_middleware_with_the_plugins_unwrap(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "routes", "--json", "--mount", "/h=cli_site_apps:hidden")
    assert code == 0 and json.loads(out)[0]["name"] == "h:page"


def test_routes_with_the_plugin_blocked(site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves the adapter came from the entry point: blocking it leaves plain WSGI."""
    monkeypatch.setenv("WSGIHUB_BLOCK_PLUGINS", "tables")
    code, out, _ = run(capsys, "routes", "--json", "--mount", "/t=cli_site_apps:tables")
    assert code == 0 and json.loads(out) == [
        {"name": "t", "mount": "t", "endpoint": None, "rule": "/t/<path:rest>", "methods": None, "framework": None, "grafted": False, "taken_by": []}
    ]


# -- url ----------------------------------------------------------------------------------------
def test_url_builds_with_values(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "url", *MOUNTS, "-e", "t:user", "uid=5") == (0, "/t/u/5\n", "")
    assert run(capsys, "url", *MOUNTS, "--endpoint", "t:user", "uid=5", "tab=a b") == (0, "/t/u/5?tab=a+b\n", "")


def test_url_external_uses_public_url(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "url", "site.ini", "-e", "tables:user", "--external", "uid=7") == (
        0,
        "https://example.com/t/u/7\n",
        "",
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-e", "t:nope"], "no endpoint 'nope'"),
        (["-e", "x:user"], "no mount named 'x'"),
        (["-e", "t:user", "--external", "uid=1"], "public_url"),
        (["-e", "t:user", "uid=1", "oops"], "value 'oops': expected NAME=VALUE"),
        (["-e", "root:anything"], "has no adapter"),
    ],
    ids=["unknown-endpoint", "unknown-mount", "external-untrusted", "bad-value", "no-adapter"],
)
def test_url_errors(site: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    code, out, err = run(capsys, "url", *MOUNTS, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("wsgihub: error: ") and expected in err


def test_url_takes_the_route_after_site(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "url", "site.ini", "tables:user", "uid=3") == (0, "/t/u/3\n", "")
    assert run(capsys, "url", *MOUNTS, "t:user", "uid=5") == (0, "/t/u/5\n", "")
    assert run(capsys, "url", "cli_site_apps:make_hub", "t:user", "uid=6") == (0, "/t/u/6\n", "")
    assert run(capsys, "url", "site.ini", "-e", "tables:user", "uid=3") == (0, "/t/u/3\n", "")
    assert run(capsys, "url", *MOUNTS, "t:user", "uid=5", "--anchor", "top") == (0, "/t/u/5#top\n", "")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([*MOUNTS, "-e", "t:user", "5"], "value '5': expected NAME=VALUE"),
        ([*MOUNTS, "t:user", "5"], "value '5': expected NAME=VALUE"),
        ([*MOUNTS, "t:user", "=5"], "value '=5': expected NAME=VALUE"),
        ([*MOUNTS, "t:user", "1x=5"], "value '1x=5': expected NAME=VALUE"),
        (["site.ini", "tables:user", "uid"], "value 'uid': expected NAME=VALUE"),
        (["site.ini", "tables:user", "uid=1", "x", "y"], "value 'x': expected NAME=VALUE"),
        ([*MOUNTS, "uid=5"], "no route given: expected [SITE] MOUNT:ENDPOINT [NAME=VALUE]..."),
        (["site.ini"], "route 'site.ini': expected [SITE] MOUNT:ENDPOINT"),
        (
            ["--mount", "/shop=cli_site_apps:tables", "-e", "shop:user", "uid=1", "_external=1"],
            "value '_external=1': '_external' is url_for's own keyword, not a route value; use --external",
        ),
        ([*MOUNTS, "t:user", "uid=1", "_anchor=x"], "use --anchor"),
        (
            [*MOUNTS, "t:user", "--external", "uid=1"],
            (
                "--external needs the site's public_url: set 'public_url = https://example.com' "
                "in the site file's hub section ([composite:main]), or Hub(public_url=...) in Python"
            ),
        ),
    ],
    ids=[
        "not-a-value-after-e", "not-a-value", "no-name", "bad-name", "no-equals", "word-after-values",
        "no-route", "site-only", "url_for-keyword", "url_for-anchor", "external-without-public-url",
    ],
)
def test_url_argument_errors_name_the_argument(
    site: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, "url", *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("wsgihub: error: ") and expected in err, err


# -- check --------------------------------------------------------------------------------------
def test_check_clean_site(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", *MOUNTS)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["ok   root: wsgi at /", "ok   t: table at /t"]


def test_check_reports_a_shadowed_route(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "check", "--mount", "/=cli_site_apps:shadowing", "--mount", "/t=cli_site_apps:home"
    )
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[:2] == ["ok   root: table at /", "ok   t: wsgi at /t"]
    assert lines[2:] == ["WARN W001 route root:inner (/t/page) is shadowed by mount 't' at '/t'"]


def test_check_from_an_ini_lists_grafts(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ini = site / "graft.ini"
    ini.write_text(SITE_INI.replace("/t = tables", "graft tables = home"))
    code, out, _ = run(capsys, "check", str(ini))
    assert code == 0
    assert out.splitlines() == ["ok   home: wsgi at /", "ok   tables: table grafted over home"]


# -- bad input: exit 2, one line, no traceback -----------------------------------------------------------
BAD_INPUT = [
    (["routes"], "no site given"),
    (["routes", "--mount", "nowhere"], "mount spec 'nowhere'"),
    (["routes", "--mount", "/x=no_such_module_xyz:app"], "cannot import 'no_such_module_xyz'"),
    (["routes", "--mount", "/x=cli_site_apps:nothing"], "has no attribute 'nothing'"),
    (["routes", "--mount", "/x=cli_site_broken:app"], "NameError"),
    (["routes", "--mount", "/x=cli_site_apps:home", "--mount", "/x=cli_site_apps:tables"], "is taken"),
    (["routes", "missing.ini"], "missing.ini' does not exist"),
    (["routes", "missing.wsgi"], "missing.wsgi' does not exist"),
    (["url", "-e", "t:user", "no_such_module_xyz:hub"], "cannot import 'no_such_module_xyz'"),
    (["check", "nonsense"], "site 'nonsense': expected a site file (site.ini, site.wsgi) or"),
    (["check", "config:missing.ini"], "missing.ini' does not exist"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(
    site: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("wsgihub: error: ") and expected in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("ini_text", "expected"),
    [
        ("[composite:main]\nuse = egg:wsgihub#hub\ncolour = red\n", "unknown key 'colour'"),
        ("[composite:main]\nuse = egg:wsgihub#hub\n/ = nowhere\n", "no section [app:nowhere]"),
        ("[composite:main]\nuse = egg:wsgihub#hub\npublic_url = ftp://x\n", "public_url"),
        ("[composite:main]\nuse = egg:wsgihub#hub\n/bad prefix = home\n[app:home]\nuse = call:cli_site_apps:make_home\n", "/bad prefix"),
        ("[composite:main]\nuse = egg:wsgihub#hub\ngraft home = nobody\n[app:home]\nuse = call:cli_site_apps:make_home\n", "graft home = nobody"),
        ("[app:main]\nuse = call:no_such_module_xyz:make\n", "no_such_module_xyz"),
        ("[composite:other]\nuse = egg:wsgihub#hub\n", "main"),
    ],
    ids=["unknown-key", "missing-section", "bad-public-url", "bad-prefix", "graft-over-nothing", "bad-call", "no-main"],
)
def test_bad_ini_is_one_line_naming_the_file(
    site: Path, capsys: pytest.CaptureFixture[str], ini_text: str, expected: str
) -> None:
    ini = site / "bad.ini"
    ini.write_text(ini_text)
    code, out, err = run(capsys, "routes", str(ini))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and str(ini) in err and expected in err, err


@pytest.mark.parametrize("command", [["routes"], ["url", "-e", "x:y"], ["check"], ["serve", "--port", "0"]])
def test_an_app_failing_while_the_site_is_built_is_one_line(
    site: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Flask's ``current_app`` raises RuntimeError (a multi-line message) when mounted (issue 8 §7)."""
    pytest.importorskip("flask")
    code, out, err = run(capsys, *command, "--mount", "/x=flask:current_app")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith("wsgihub: error: --mount /x=flask:current_app: RuntimeError: Working outside")


def test_a_mount_warning_is_one_line_once(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shadowed = ["--mount", "/=cli_site_apps:shadowing", "--mount", "/t=cli_site_apps:home"]
    warning = "wsgihub: warning: route root:inner (/t/page) is shadowed by mount 't' at '/t'\n"
    code, out, err = run(capsys, "routes", *shadowed)
    assert (code, err) == (0, warning)
    assert run(capsys, "url", *shadowed, "root:front") == (0, "/\n", warning)
    code, out, err = run(capsys, "check", *shadowed)  # check lists it as a WARN line instead
    assert (code, err) == (1, "") and out.count("is shadowed") == 1


def test_debug_after_the_command_raises_too(site: Path) -> None:
    with pytest.raises(DeployError, match="no_such_module_xyz"):
        main(["routes", "--mount", "/x=no_such_module_xyz:app", "--debug"])


def test_debug_raises_for_the_traceback(site: Path) -> None:
    with pytest.raises(DeployError, match="no_such_module_xyz"):
        main(["--debug", "routes", "--mount", "/x=no_such_module_xyz:app"])


@pytest.mark.parametrize(
    ("argv", "fragment", "command"),
    [
        (["no-such-command"], "No such command", "wsgihub"),
        (["routes", "--nope"], "--nope", "wsgihub routes"),
        (["url", "-e"], "'-e' requires an argument", None),
        (["routes", "--mount"], "'--mount' requires an argument", None),
        (["serve", "--prot", "0"], "--port", "wsgihub serve"),  # click's "did you mean"
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    site: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str, command: str | None
) -> None:
    """click's usage errors (three lines of its own) become one line pointing at --help."""
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("wsgihub: error: ") and fragment in err, err
    assert err.endswith(" --help')\n"), err
    if command is not None:
        assert err.endswith(f"(see '{command} --help')\n"), err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "routes" in out and "check" in out and "plugins" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "0.1.0" in out


# -- the real console script ------------------------------------------------------------------------
def wsgihub_command() -> list[str]:
    """The installed ``wsgihub`` script of this interpreter (or ``python -m wsgihub.cli``)."""
    return console_script() or [sys.executable, "-m", "wsgihub.cli"]


def _run_process(site: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    env.pop("WSGIHUB_DISABLE_PLUGIN_AUTOLOAD", None)
    return subprocess.run(
        [*wsgihub_command(), *argv], check=False, capture_output=True, text=True, env=env, cwd=site, timeout=60
    )


@pytest.mark.live
def test_console_script(site: Path) -> None:
    """The installed script loads the plugin from its entry point in a fresh process."""
    done = _run_process(site, "url", "site.ini", "-e", "tables:user", "uid=3")
    assert (done.returncode, done.stdout, done.stderr) == (0, "/t/u/3\n", "")
    done = _run_process(site, "routes", "--mount", "/x=no_such_module_xyz:app")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "wsgihub: error: --mount /x=no_such_module_xyz:app: "
        "cannot import 'no_such_module_xyz': No module named 'no_such_module_xyz'\n"
    )
    done = _run_process(site, "--debug", "routes", "--mount", "/x=no_such_module_xyz:app")
    assert done.returncode == 1 and "Traceback (most recent call last)" in done.stderr
    assert "DeployError" in done.stderr


def test_module_docstring_example_is_sane() -> None:
    """The module documents every command it has."""
    from wsgihub import cli

    assert cli.__doc__ is not None
    for command in ("routes", "url", "check", "plugins"):
        assert command in cli.__doc__ and command in cli.cli.commands
    assert textwrap.dedent(cli.__doc__).strip()
