"""Deploying a site: real PasteDeploy INI files (``egg:wsgihub#hub``) and import specs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from wsgi_helpers import call

import wsgihub
from wsgihub.deploy import hub_factory, import_object, load, parse_mount_spec
from wsgihub.errors import ConfigError, DeployError
from wsgihub.testing import console_script

APPS = "deploy_site_apps"

APPS_SOURCE = '''
"""Apps and factories for the deploy tests."""
import wsgihub
from wsgihub.plugins import make_plugins


def _echo(name):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]
    return app


def make_app(global_conf, greeting="hello"):
    return _echo(greeting)


def make_special(global_conf):
    """Answers /special only; a 404 elsewhere lets a graft fall through."""
    def app(environ, start_response):
        if environ["PATH_INFO"] != "/special":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not mine"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"special"]
    return app


def app(environ, start_response):
    return _echo("app")(environ, start_response)


class ClassApp:
    def __call__(self, environ, start_response):
        return _echo("instance")(environ, start_response)


instance = ClassApp()

hub = wsgihub.Hub(plugins=make_plugins(autoload=False), name="module-hub")
hub.mount("/x", _echo("x"))


def factory():
    return _echo("factory")


def hub_factory():
    made = wsgihub.Hub(plugins=make_plugins(autoload=False), name="made")
    made.mount("/made", _echo("made"))
    return made


def failing_factory():
    raise RuntimeError("no config\\nsecond line")


class Holder:
    inner = staticmethod(app)


CONSTANT = 3
'''

SITE_INI = """\
[composite:main]
use = egg:wsgihub#hub
trusted_hosts = example.com .example.org
public_url = https://example.com/site
/ = legacy
/new = new
graft reports = legacy

[composite:other]
use = egg:wsgihub#main
/only = new

[app:legacy]
use = call:deploy_site_apps:make_app
greeting = legacy

[app:new]
use = call:deploy_site_apps:make_app
greeting = %(who)s

[app:reports]
use = call:deploy_site_apps:make_special

[DEFAULT]
who = new
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` (the cwd, on ``sys.path``) with the apps module and ``site.ini``."""
    (tmp_path / f"{APPS}.py").write_text(APPS_SOURCE)
    (tmp_path / "site.ini").write_text(SITE_INI)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    sys.modules.pop(APPS, None)
    yield tmp_path
    sys.modules.pop(APPS, None)


def test_the_hub_composite_is_an_installed_entry_point() -> None:
    """``egg:wsgihub#hub`` resolves through the installed distribution's metadata."""
    eps = {ep.name: ep.value for ep in metadata.distribution("wsgihub").entry_points if ep.group == "paste.composite_factory"}
    assert eps == {"hub": "wsgihub.deploy:hub_factory", "main": "wsgihub.deploy:hub_factory"}
    (entry,) = metadata.distribution("wsgihub").entry_points.select(group="paste.composite_factory", name="hub")
    assert entry.load() is hub_factory


# -- PasteDeploy INI -----------------------------------------------------------------------------------
def test_load_a_pastedeploy_site(site: Path) -> None:
    hub = wsgihub.load("config:site.ini")
    assert isinstance(hub, wsgihub.Hub)
    assert [(p.name, p.prefix, p.over.name if p.over else None) for p in hub.pegs()] == [
        ("legacy", "", None),
        ("new", "/new", None),
        ("reports", "", "legacy"),
    ]
    assert hub.trusted_hosts == ("example.com", ".example.org")
    assert hub.public_url == "https://example.com/site"
    assert hub.host_is_trusted("www.example.org") and not hub.host_is_trusted("evil.com")
    assert call(hub, "/new/page").text == "new /new|/page"  # %(who)s from [DEFAULT]
    assert call(hub, "/blog").text == "legacy |/blog"
    # the graft has no adapter: it is tried first and its 404 falls through
    assert call(hub, "/special").text == "special"


@pytest.mark.parametrize("spec", ["site.ini", "config:site.ini", "config:site.ini#main", "ABS"])
def test_ini_spec_forms(site: Path, spec: str) -> None:
    spec = str(site / "site.ini") if spec == "ABS" else spec
    assert [p.name for p in load(spec).pegs()] == ["legacy", "new", "reports"]


def test_named_composite_and_main_alias(site: Path) -> None:
    hub = load("site.ini#other")
    assert [(p.name, p.prefix) for p in hub.pegs()] == [("new", "/only")]
    assert hub.trusted_hosts == () and hub.public_url is None


def test_global_conf_option_reaches_the_file(site: Path) -> None:
    """Keyword options go to PasteDeploy's ``loadapp`` (``global_conf`` fills ``%(name)s``)."""
    (site / "vars.ini").write_text(SITE_INI.split("[DEFAULT]")[0])
    hub = load("config:vars.ini", global_conf={"who": "visitor"})
    assert call(hub, "/new/").text == "visitor /new|/"


def test_an_ini_of_a_plain_app_gives_a_hub(site: Path) -> None:
    (site / "plain.ini").write_text(f"[app:main]\nuse = call:{APPS}:make_app\ngreeting = plain\n")
    hub = load("plain.ini")
    assert [(p.name, p.prefix) for p in hub.pegs()] == [("root", "")]
    assert call(hub, "/a").text == "plain |/a"


def test_an_existing_file_with_another_suffix_is_read_as_ini(site: Path) -> None:
    (site / "site.conf").write_text(SITE_INI)
    assert [p.name for p in load("site.conf").pegs()] == ["legacy", "new", "reports"]


BAD_INI = [
    ("[composite:main]\nuse = egg:wsgihub#hub\ncolour = red\n", ["unknown key 'colour'", "hub section"]),
    ("[composite:main]\nuse = egg:wsgihub#hub\n/ = nowhere\n", ["/ = nowhere", "no section [app:nowhere]"]),
    ("[composite:main]\nuse = egg:wsgihub#hub\npublic_url = ftp://x\n", ["[composite]", "public_url 'ftp://x'"]),
    (
        f"[composite:main]\nuse = egg:wsgihub#hub\n/caf\u00e9 = a\n[app:a]\nuse = call:{APPS}:make_app\n",
        ["/caf\u00e9 = a: mount 'a'"],
    ),
    (
        f"[composite:main]\nuse = egg:wsgihub#hub\ngraft a = nobody\n[app:a]\nuse = call:{APPS}:make_app\n",
        ["graft a = nobody"],
    ),
    # the graft line is quoted as written
    (
        f"[composite:main]\nuse = egg:wsgihub#hub\n/ = a\ngraft b c = a\n[app:a]\nuse = call:{APPS}:make_app\n",
        ["[composite:main] graft b c = a: expected 'graft SECTION = MOUNT'"],
    ),
    (f"[app:main]\nuse = call:{APPS}:make_app\ncolour = red\n", ["[app:main] TypeError", "'colour'"]),
    (f"[app:main]\nuse = call:{APPS}:nope\n", ["[app:main] AttributeError", "nope"]),
    # egg: naming a distribution that is not installed: one line, not PackageNotFoundError
    (
        "[app:main]\nuse = egg:no-such-dist-xyz#app\n",
        ["[app:main] use: distribution 'no-such-dist-xyz' is not installed"],
    ),
    (
        "[composite:main]\nuse = egg:wsgihub#hub\n/x = x\n[app:x]\nuse = egg:no-such-dist-xyz#app\n",
        ["[app:x] use: distribution 'no-such-dist-xyz' is not installed"],
    ),
    ("[composite:other]\nuse = egg:wsgihub#hub\n", ["main"]),
    ("garbage\n", ["MissingSectionHeaderError"]),
    # a composite that contains itself: detected at once, the sections named
    (
        (
            "[composite:main]\nuse = egg:wsgihub#hub\n/ = other\n"
            "[composite:other]\nuse = egg:wsgihub#hub\n/x = main\n"
        ),
        ["/x = main: circular composite: [composite:main] -> [composite:other] -> [composite:main]"],
    ),
    (
        "[composite:main]\nuse = egg:wsgihub#hub\n/ = main\n",
        ["/ = main: circular composite: [composite:main] -> [composite:main]"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INI, ids=[f"bad{i}" for i in range(len(BAD_INI))])
def test_bad_ini_is_one_line_naming_the_file(site: Path, text: str, expected: list[str]) -> None:
    ini = site / "bad.ini"
    ini.write_text(text)
    with pytest.raises(DeployError) as info:
        load(str(ini))
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(ini)), message
    for part in expected:
        assert part in message, (part, message)


def test_missing_ini(site: Path) -> None:
    with pytest.raises(DeployError, match=r"site file '.*absent\.ini' does not exist"):
        load("absent.ini")


# -- module:attr ------------------------------------------------------------------------------------
def test_load_a_hub_by_import_spec(site: Path) -> None:
    hub = load(f"{APPS}:hub")
    assert hub is sys.modules[APPS].hub and hub.name == "module-hub"


@pytest.mark.parametrize(("attr", "text"), [("app", "app |/p"), ("instance", "instance |/p"), ("factory", "factory |/p"), ("Holder.inner", "app |/p")])
def test_load_a_wsgi_app_or_factory_by_import_spec(site: Path, attr: str, text: str) -> None:
    hub = wsgihub.load(f"{APPS}:{attr}")
    assert isinstance(hub, wsgihub.Hub)
    assert [(p.name, p.prefix) for p in hub.pegs()] == [("root", "")]
    assert call(hub, "/p").text == text


def test_load_a_factory_returning_a_hub(site: Path) -> None:
    hub = load(f"{APPS}:hub_factory")
    assert hub.name == "made" and call(hub, "/made/y").text == "made /made|/y"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (f"{APPS}:failing_factory", "the factory raised RuntimeError: no config; second line"),
        (f"{APPS}:CONSTANT", "is neither a Hub nor a WSGI application"),
        (f"{APPS}:missing", f"module {APPS!r} has no attribute 'missing'"),
        ("no_such_module_xyz:app", "cannot import 'no_such_module_xyz'"),
        (APPS, "expected a site file (site.ini, site.wsgi) or 'package.module:attribute'"),
        (f"{APPS}:", "expected 'package.module:attribute'"),
    ],
)
def test_bad_import_specs(site: Path, spec: str, expected: str) -> None:
    with pytest.raises(DeployError) as info:
        load(spec)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_import_object_and_mount_specs(site: Path) -> None:
    assert import_object(f"{APPS}:Holder.inner") is sys.modules[APPS].app
    assert parse_mount_spec(" /new = pkg.mod:app ") == ("/new", "pkg.mod:app")
    for bad in ("new=pkg:app", "/new", "/new=pkg", "=pkg:app"):
        with pytest.raises(DeployError, match="expected PREFIX=package.module:attribute"):
            parse_mount_spec(bad)
    (site / "broken_mod_xyz.py").write_text("raise KeyError('half-written module')\n")
    try:
        with pytest.raises(DeployError, match="importing 'broken_mod_xyz' failed: KeyError"):
            import_object("broken_mod_xyz:app", "--mount /b")
    finally:
        sys.modules.pop("broken_mod_xyz", None)


# -- the one loader: SITE and/or --mount --------------------------------------------------------
def test_load_without_site_or_mounts_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^no site given: pass SITE .* or --mount PREFIX=module:app$"):
        load()


def test_load_mounts_on_a_site_and_alone(site: Path) -> None:
    hub = load("config:site.ini", mounts=[f"/extra={APPS}:app"])
    assert call(hub, "/extra/p").text == "app /extra|/p"
    only = wsgihub.load(mounts=[f"/a={APPS}:app", f"/b={APPS}:instance"])
    assert [(p.name, p.prefix) for p in only.pegs()] == [("a", "/a"), ("b", "/b")]
    assert call(only, "/b/q").text == "instance /b|/q"


BROKEN_MODULES = {
    "deploy_raises_on_import": "raise KeyError('half-written module')\n",
    # like flask.current_app: any attribute access outside a context raises
    "deploy_context_proxy": (
        "class Proxy:\n"
        "    def __getattr__(self, name):\n"
        "        raise RuntimeError('working outside of a request context')\n"
        "    def __call__(self, *args):\n"
        "        raise RuntimeError('working outside of a request context')\n"
        "current_app = Proxy()\n"
    ),
    "deploy_factory_raises": "def make():\n    raise OSError('no database\\nat all')\n",
}


@pytest.mark.parametrize(
    ("mount", "expected"),
    [
        pytest.param(
            "/x=flask:current_app",
            "--mount /x=flask:current_app: RuntimeError: Working outside of application context.",
            marks=pytest.mark.skipif(importlib.util.find_spec("flask") is None, reason="needs Flask"),
        ),
        ("/x=deploy_context_proxy:current_app", "--mount /x=deploy_context_proxy:current_app: RuntimeError: working outside of a request context"),
        ("/x=deploy_raises_on_import:app", "--mount /x=deploy_raises_on_import:app: importing 'deploy_raises_on_import' failed: KeyError"),
        ("/x=deploy_factory_raises:make", "--mount /x=deploy_factory_raises:make: the factory raised OSError: no database; at all"),
        (f"/={APPS}:CONSTANT", f"--mount /={APPS}:CONSTANT: 3 is neither a Hub nor a WSGI application"),
        (f"/x={APPS}:nothing", f"--mount /x={APPS}:nothing: module {APPS!r} has no attribute 'nothing'"),
        (f"/bad!={APPS}:app", f"--mount /bad!={APPS}:app: "),
    ],
    ids=["flask-proxy", "context-proxy", "module-raises", "factory-raises", "not-an-app", "no-attribute", "bad-prefix"],
)
def test_any_failure_while_mounting_is_one_line_naming_the_mount(site: Path, mount: str, expected: str) -> None:
    for name, source in BROKEN_MODULES.items():
        (site / f"{name}.py").write_text(source)
    try:
        with pytest.raises(ConfigError) as info:
            load(mounts=[f"/ok={APPS}:app", mount])
    finally:
        for name in BROKEN_MODULES:
            sys.modules.pop(name, None)
    message = str(info.value)
    assert "\n" not in message and message.startswith(expected), message


def test_a_site_whose_factory_fails_names_the_site(site: Path) -> None:
    (site / "deploy_hub_breaks.py").write_text(
        "import wsgihub\n"
        "def make():\n"
        "    hub = wsgihub.Hub()\n"
        "    hub.mount('/a', lambda e, s: [])\n"
        "    hub.mount('/a', lambda e, s: [])\n"
        "    return hub\n"
    )
    try:
        with pytest.raises(DeployError) as info:
            load("deploy_hub_breaks:make")
    finally:
        sys.modules.pop("deploy_hub_breaks", None)
    message = str(info.value)
    assert message.startswith("site 'deploy_hub_breaks:make': ") and "\n" not in message, message
    assert isinstance(info.value.__cause__, wsgihub.MountError)


# -- the current directory is on sys.path (as with python -m, gunicorn, flask run) ----------------
def _wsgihub_script() -> list[str]:
    """The installed ``wsgihub`` console script (its sys.path[0] is its own directory, not the cwd)."""
    script = console_script()
    if script is None:  # pragma: no cover - the core is installed with its script
        pytest.skip("the wsgihub console script is not installed")
    return script


@pytest.mark.live
@pytest.mark.parametrize("how", ["mount", "site-file", "import-spec"])
def test_the_console_script_imports_from_the_current_directory(tmp_path: Path, how: str) -> None:
    """``wsgihub routes`` run in a project folder finds the project without PYTHONPATH.

    The Django adapter's suite does the same with a real ``django-admin startproject``.
    """
    package = tmp_path / "cwdproject"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "wsgi.py").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [b'ok']\n"
        "def make(global_conf):\n"
        "    return application\n"
    )
    (tmp_path / "site.ini").write_text(
        "[composite:main]\nuse = egg:wsgihub#hub\n/ = web\n\n[app:web]\nuse = call:cwdproject.wsgi:make\n"
    )
    argv = {
        "mount": ["--mount", "/=cwdproject.wsgi:application"],
        "site-file": ["site.ini"],
        "import-spec": ["cwdproject.wsgi:application"],
    }[how]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [*_wsgihub_script(), "check", *argv],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("ok   "), done.stdout


# -- app factories: one rule everywhere -------------------------------------------------------------
FACTORIES = "deploy_factories"

FACTORIES_SOURCE = '''
def create_app():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hi from the factory " + environ["PATH_INFO"].encode()]

    return app


def create_with_defaults(config="prod"):
    return create_app()


def needs_config(config):
    return create_app()


def returns_a_factory():
    return create_app


def returns_nothing():
    return None
'''


@pytest.fixture
def factories(site: Path) -> Iterator[Path]:
    (site / f"{FACTORIES}.py").write_text(FACTORIES_SOURCE)
    yield site
    sys.modules.pop(FACTORIES, None)


@pytest.mark.parametrize("attr", ["create_app", "create_with_defaults"])
def test_an_app_factory_is_called_as_mount_and_as_site(factories: Path, attr: str) -> None:
    """``--mount /new=pkg:create_app`` mounts what the factory returns, as SITE does."""
    mounted = load(mounts=[f"/new={FACTORIES}:{attr}"])
    assert call(mounted, "/new/hi").text == "hi from the factory /hi"
    as_site = load(f"{FACTORIES}:{attr}")
    assert call(as_site, "/hi").text == "hi from the factory /hi"


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        ("needs_config", "'needs_config' takes 1 required argument: neither a WSGI application (environ, start_response) nor an app factory (no arguments)"),
        ("returns_a_factory", "the factory returned another factory, not a WSGI application"),
        ("returns_nothing", "the factory returned None, not a WSGI application"),
    ],
)
def test_what_is_neither_app_nor_factory_is_refused_in_one_line(factories: Path, attr: str, expected: str) -> None:
    for site, mounts, label in [(None, [f"/new={FACTORIES}:{attr}"], f"--mount /new={FACTORIES}:{attr}: "), (f"{FACTORIES}:{attr}", [], f"site '{FACTORIES}:{attr}': ")]:
        with pytest.raises(DeployError) as info:
            load(site, mounts=mounts)
        assert str(info.value) == label + expected


def test_options_are_for_site_files_only(site: Path) -> None:
    (site / "vars.ini").write_text(f"[app:main]\nuse = call:{APPS}:make_app\ngreeting = %(word)s\n")
    assert call(load("vars.ini", global_conf={"word": "given"}), "/x").text == "given |/x"
    with pytest.raises(ConfigError, match=rf"^site '{APPS}:app': global_conf: only a PasteDeploy site file takes options$"):
        load(f"{APPS}:app", global_conf={"who": "x"})
