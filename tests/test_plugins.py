"""Loading plugins: built-ins, real entry points of real distributions, blocking, errors.

Installed distributions are made for real: a ``*.dist-info`` directory with
``METADATA`` and ``entry_points.txt`` next to the plugin module in
``tmp_path``, and ``tmp_path`` on ``sys.path``, where ``importlib.metadata``
finds them exactly as it finds a pip-installed plugin.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import wsgihub
from wsgihub import hookimpl
from wsgihub.cli import main
from wsgihub.errors import PluginError
from wsgihub.plugins import (
    BLOCK_ENV,
    DISABLE_AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    PluginInfo,
    Plugins,
    make_plugins,
)


def make_distribution(
    where: Path,
    name: str,
    version: str,
    entry_points: Mapping[str, str],
    modules: Mapping[str, str],
    group: str = ENTRY_POINT_GROUP,
) -> Path:
    """Install distribution ``name`` into ``where`` (a ``sys.path`` entry): modules + dist-info."""
    for module, source in modules.items():
        (where / f"{module}.py").write_text(textwrap.dedent(source))
    dist = where / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"[{group}]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return dist


HELLO_PLUGIN = '''
"""A plugin that answers the partyline 'hello' service for every mount."""
from wsgihub import hookimpl

@hookimpl
def wsgihub_invite(hub, peg, operator):
    operator.connect("hello", lambda payload: f"hello {payload} from {peg.name}")
'''

BROKEN_IMPORT = '''
raise ImportError("this plugin needs a library that is not installed")
'''

UNKNOWN_HOOK = '''
from wsgihub import hookimpl

@hookimpl
def wsgihub_nonexistent(hub):
    pass
'''


@pytest.fixture
def site_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``sys.path`` entry; modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        if str(tmp_path) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[name]


@pytest.fixture
def hello_dist(site_packages: Path) -> Path:
    """The distribution ``wsgihub-hello 1.2.3`` with entry point ``hello``."""
    make_distribution(
        site_packages, "wsgihub-hello", "1.2.3", {"hello": "wsgihub_hello_plugin"}, {"wsgihub_hello_plugin": HELLO_PLUGIN}
    )
    return site_packages


def names(plugins: Plugins) -> list[str]:
    return [info.name for info in plugins.info()]


def plain_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain"]


# -- explicit construction ------------------------------------------------------------------
def test_builtins_are_registered_as_a_plugin() -> None:
    plugins = make_plugins(autoload=False)
    info = {i.name: i for i in plugins.info()}
    assert info["wsgihub.builtins"] == PluginInfo(
        name="wsgihub.builtins",
        hooks=["wsgihub_invite", "wsgihub_submounts"],
        distribution=None,
        version=None,
        builtin=True,
    )
    assert list(info) == ["wsgihub.builtins"]


def test_each_manager_is_independent() -> None:
    """Nothing is global: a plugin registered on one manager is not on another."""

    class Observer:
        @hookimpl
        def wsgihub_start(self, hub: Any) -> None:
            pass

    first = make_plugins(autoload=False)
    second = make_plugins(autoload=False)
    first.register(Observer(), name="observer")
    assert "observer" in names(first)
    assert "observer" not in names(second)
    assert "observer" not in names(make_plugins(autoload=False))
    assert first.has_observers("wsgihub_start") and not second.has_observers("wsgihub_start")


def test_extra_plugins_are_registered_after_builtins() -> None:
    class Extra:
        @hookimpl
        def wsgihub_stop(self, hub: Any) -> None:
            pass

    plugins = make_plugins(autoload=False, plugins=[Extra()])
    info = plugins.info()
    assert info[0].name == "wsgihub.builtins"
    assert info[1].hooks == ["wsgihub_stop"] and not info[1].builtin


def test_register_and_unregister_for_one_test() -> None:
    """The datasette pattern: a plugin lives for one block and leaves no trace."""

    class Temporary:
        @hookimpl
        def wsgihub_graceful(self, hub: Any) -> None:
            pass

    plugins = make_plugins(autoload=False)
    plugin = Temporary()
    name = plugins.register(plugin, name="temporary")
    try:
        assert plugins.has_observers("wsgihub_graceful")
    finally:
        plugins.unregister(plugin)
    assert name == "temporary"
    assert not plugins.has_observers("wsgihub_graceful")
    assert "temporary" not in names(plugins)


def test_register_refuses_duplicates_and_unknown_hooks() -> None:
    class Bad:
        @hookimpl
        def wsgihub_nonexistent(self) -> None:
            pass

    plugins = make_plugins(autoload=False)
    with pytest.raises(PluginError, match="'bad' is invalid.*wsgihub_nonexistent") as info:
        plugins.register(Bad(), name="bad")
    assert info.value.plugin == "bad"
    assert "bad" not in names(plugins)
    import wsgihub.builtins

    with pytest.raises(PluginError, match="cannot be registered"):
        plugins.register(wsgihub.builtins, name="again")


# -- autoload from the entry point group ----------------------------------------------------------
def test_autoload_finds_an_installed_distribution(hello_dist: Path) -> None:
    plugins = make_plugins()
    info = {i.name: i for i in plugins.info()}
    assert info["hello"] == PluginInfo(
        name="hello", hooks=["wsgihub_invite"], distribution="wsgihub-hello", version="1.2.3", builtin=False
    )
    # and it works: every mount of a hub built with it answers 'hello'
    hub = wsgihub.Hub(plugins=plugins)
    hub.mount("/a", plain_app)
    assert hub.partyline.ask_around("hello", "you") == ["hello you from a"]


def test_a_hub_autoloads_by_default(hello_dist: Path) -> None:
    hub = wsgihub.Hub()
    assert "hello" in names(hub.plugins)


def test_autoload_false_loads_no_entry_points(hello_dist: Path) -> None:
    assert names(make_plugins(autoload=False)) == ["wsgihub.builtins"]


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_environment_disables_autoload(hello_dist: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, value)
    assert "hello" not in names(make_plugins())
    # an explicit argument wins over the environment
    assert "hello" in names(make_plugins(autoload=True))


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_environment_values_that_keep_autoload(hello_dist: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, value)
    assert "hello" in names(make_plugins())


def test_block_by_argument(hello_dist: Path) -> None:
    assert "hello" not in names(make_plugins(block=["hello"]))
    assert "wsgihub.builtins" not in names(make_plugins(autoload=False, block=["wsgihub.builtins"]))


def test_block_by_environment(hello_dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, " other , hello ")
    loaded = names(make_plugins())
    assert "hello" not in loaded and "wsgihub.builtins" in loaded


def test_a_blocked_plugin_can_be_blocked_after_loading(hello_dist: Path) -> None:
    plugins = make_plugins()
    plugins.block("hello")
    assert "hello" not in names(plugins)


def test_load_entry_points_of_another_group(site_packages: Path) -> None:
    make_distribution(
        site_packages,
        "wsgihub-other-group",
        "0.1",
        {"hi": "wsgihub_other_group_plugin"},
        {"wsgihub_other_group_plugin": HELLO_PLUGIN},
        group="wsgihub_tests.other",
    )
    plugins = make_plugins(autoload=False)
    assert plugins.load_entry_points("wsgihub_tests.other") == ["hi"]
    assert plugins.load_entry_points("wsgihub_tests.other") == []  # already there
    assert "hi" in names(plugins)


# -- broken plugins --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module_source", "expected"),
    [
        (BROKEN_IMPORT, "ImportError: this plugin needs a library that is not installed"),
        (UNKNOWN_HOOK, "wsgihub_nonexistent"),
    ],
    ids=["import-error", "unknown-hook"],
)
def test_broken_plugin_names_entry_point_and_distribution(
    site_packages: Path, module_source: str, expected: str
) -> None:
    make_distribution(
        site_packages, "wsgihub-broken", "9.9", {"broken": "wsgihub_broken_plugin"}, {"wsgihub_broken_plugin": module_source}
    )
    with pytest.raises(PluginError) as info:
        make_plugins()
    message = str(info.value)
    assert info.value.plugin == "broken"
    assert "'broken'" in message and "wsgihub-broken 9.9" in message and expected in message
    assert "\n" not in message
    # blocking it by name is the way out
    assert "broken" not in names(make_plugins(block=["broken"]))


def test_a_misspelt_hook_gets_a_suggestion() -> None:
    class Typo:
        @hookimpl
        def wsgihub_invites(self, hub: Any) -> None:
            pass

    with pytest.raises(PluginError, match=r"unknown hook 'wsgihub_invites'.*\(did you mean 'wsgihub_invite'\?\)$"):
        make_plugins(autoload=False, plugins=[Typo()])


def test_broken_plugin_is_not_left_half_registered(site_packages: Path) -> None:
    make_distribution(
        site_packages, "wsgihub-broken2", "1.0", {"broken2": "wsgihub_broken2_plugin"}, {"wsgihub_broken2_plugin": UNKNOWN_HOOK}
    )
    plugins = make_plugins(autoload=False)
    with pytest.raises(PluginError):
        plugins.load_entry_points()
    assert "broken2" not in names(plugins)


def test_entry_point_naming_a_missing_attribute(site_packages: Path) -> None:
    make_distribution(
        site_packages, "wsgihub-typo", "1.0", {"typo": "wsgihub_typo_plugin:nothing"}, {"wsgihub_typo_plugin": "x = 1\n"}
    )
    with pytest.raises(PluginError, match=r"plugin 'typo' \(distribution wsgihub-typo 1.0\).*AttributeError"):
        make_plugins()


# -- `wsgihub plugins` -------------------------------------------------------------------------------
def test_cli_plugins_json(hello_dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["hello"] == {
        "name": "hello",
        "distribution": "wsgihub-hello",
        "version": "1.2.3",
        "builtin": False,
        "hooks": ["wsgihub_invite"],
    }
    assert "wsgihub.builtins" not in listed
    assert main(["plugins", "--json", "--all"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["wsgihub.builtins"]["builtin"] is True


def test_cli_plugins_text(hello_dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "hello (wsgihub-hello 1.2.3)\n    hooks: wsgihub_invite\n" in out


def test_cli_plugins_none(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert main(["plugins"]) == 0
    assert capsys.readouterr().out == "no plugins installed\n"


def test_cli_plugins_broken_is_one_line(site_packages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_distribution(
        site_packages, "wsgihub-broken3", "1.0", {"broken3": "wsgihub_broken3_plugin"}, {"wsgihub_broken3_plugin": BROKEN_IMPORT}
    )
    assert main(["plugins"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'broken3'" in err and "wsgihub-broken3" in err


# -- the example distribution of docs/plugins.md ------------------------------------------------------------
def docs_files() -> dict[str, str]:
    """The code blocks of docs/plugins.md that start with ``# file: PATH``."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text()
    files = {}
    for block in re.findall(r"^```\w*\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        first, _, rest = block.partition("\n")
        if first.startswith("# file: "):
            files[first[len("# file: ") :].strip()] = rest
    return files


def test_the_guides_example_distribution_installs_and_works(site_packages: Path) -> None:
    """Install docs/plugins.md's wsgihub-whoami as pip would lay it out, then use it."""
    files = docs_files()
    assert set(files) == {"pyproject.toml", "src/wsgihub_whoami.py"}
    project = tomllib.loads(files["pyproject.toml"])["project"]
    make_distribution(
        site_packages,
        project["name"],
        project["version"],
        project["entry-points"]["wsgihub"],
        {"wsgihub_whoami": files["src/wsgihub_whoami.py"]},
    )
    plugins = make_plugins()
    info = {i.name: i for i in plugins.info()}
    assert info["whoami"] == PluginInfo(
        name="whoami",
        hooks=["wsgihub_invite", "wsgihub_start"],
        distribution="wsgihub-whoami",
        version="1.0.0",
    )
    hub = wsgihub.Hub(plugins=plugins)
    hub.mount("/", plain_app, name="legacy")
    hub.mount("/new", plain_app)
    assert hub.partyline.ask_around("whoami", None) == [
        {"mount": "legacy", "prefix": "/", "framework": None},
        {"mount": "new", "prefix": "/new", "framework": None},
    ]
    logged: list[str] = []
    hub.bus.subscribe("log", lambda msg, level=20: logged.append(msg))
    with hub.running():
        assert "whoami: serving legacy, new" in logged
