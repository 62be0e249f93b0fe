"""One Django per process: checks that need a fresh interpreter (Django configures once).

Each test runs a script with ``run_python`` and reads what it printed.
"""

from __future__ import annotations

import os
from pathlib import Path

from djsite_testing import run_python

SETUP = """
import os, warnings
os.environ["DJANGO_SETTINGS_MODULE"] = "{settings}"
import django
django.setup()
from django.core.wsgi import get_wsgi_application
import wsgihub, wsgihub_django
from djsite_testing import make_hub
"""


def _run(body: str, settings: str = "djsite_legacy.settings", **env: str) -> list[str]:
    result = run_python(SETUP.format(settings=settings) + body, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_second_settings_module_is_refused_at_mount() -> None:
    out = _run(
        """
first = get_wsgi_application()
hub = make_hub()
hub.mount("/legacy", first, name="legacy")
os.environ["DJANGO_SETTINGS_MODULE"] = "djsite_other.settings"
second = get_wsgi_application()   # Django hands out the first project's handler, silently
try:
    hub.mount("/other", second, name="other")
except wsgihub.MountError as exc:
    print("refused:", exc, "| mount:", exc.mount)
print("other mounted:", "other" in hub)
try:
    make_hub(name="second-hub").mount("/", get_wsgi_application(), name="elsewhere")
except wsgihub.MountError as exc:
    print("refused in another hub:", exc)
# one project at several prefixes is fine: the first handler again
hub.mount("/again", first, name="again")
print(hub.url_for("again:blog:detail", pk=1), hub.url_for("legacy:blog:detail", pk=1))
"""
    )
    assert out == [
        (
            "refused: mount 'other' at '/other' wants Django settings 'djsite_other.settings', but this process "
            "already runs Django with 'djsite_legacy.settings' (running as mount 'legacy' at '/legacy' of hub "
            "'wsgihub'); Django reads one settings module per process, so a second project silently gets the "
            "first one's settings: serve it from another process | mount: other"
        ),
        "other mounted: False",
        (
            "refused in another hub: mount 'elsewhere' at '/' wants Django settings 'djsite_other.settings', but "
            "this process already runs Django with 'djsite_legacy.settings' (running as mount 'legacy' at "
            "'/legacy' of hub 'wsgihub'); Django reads one settings module per process, so a second project "
            "silently gets the first one's settings: serve it from another process"
        ),
        "/again/blog/1/ /legacy/blog/1/",
    ]


def test_app_factory_refuses_a_second_settings_module() -> None:
    result = run_python(
        """
import os
import wsgihub
from wsgihub.errors import DeployError
from wsgihub_django.deploy import app_factory

for options in ({"settings": "djsite_nope.settings"}, {"settings": "djsite_legacy.settings", "debug": "true"}, {}):
    try:
        app_factory({}, **options)
    except DeployError as exc:
        print("error:", exc)
print("env:", os.environ.get("DJANGO_SETTINGS_MODULE"))
first = app_factory({"here": "."}, settings="djsite_legacy.settings")
print(type(first).__name__, os.environ["DJANGO_SETTINGS_MODULE"])
print("same again:", type(app_factory({}, settings="djsite_legacy.settings")).__name__)
from djsite_testing import make_hub
hub = make_hub()
hub.mount("/legacy", first, name="legacy")
try:
    app_factory({}, settings="djsite_other.settings")
except wsgihub.MountError as exc:
    print("refused:", exc)
print("env:", os.environ["DJANGO_SETTINGS_MODULE"])
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        (
            "error: settings: 'djsite_nope.settings' cannot be imported: "
            "ModuleNotFoundError: No module named 'djsite_nope'"
        ),
        (
            "error: debug: unknown setting; the settings are 'settings = your_project.settings' and "
            "'static = auto|insecure|whitenoise|off'"
        ),
        "error: settings: required: your_project.settings (or set DJANGO_SETTINGS_MODULE)",
        "env: None",
        "WSGIHandler djsite_legacy.settings",
        "same again: WSGIHandler",
        (
            "refused: Django settings 'djsite_other.settings' cannot be loaded: this process already runs Django "
            "with 'djsite_legacy.settings' (running as mount 'legacy' at '/legacy' of hub 'wsgihub'); Django "
            "reads one settings module per process, so serve 'djsite_other.settings' from another process"
        ),
        "env: djsite_legacy.settings",
    ]


def test_site_file_with_the_app_factory(tmp_path: Path) -> None:
    site = tmp_path / "site.ini"
    site.write_text(
        """
[composite:main]
use = egg:wsgihub#hub
/ = root
/legacy = legacy

[app:root]
use = egg:wsgihub-django#app
settings = djsite_legacy.settings

[app:legacy]
use = egg:wsgihub-django#app
settings = djsite_legacy.settings
"""
    )
    two = tmp_path / "two.ini"
    two.write_text(
        site.read_text().replace("/legacy = legacy", "/other = other")
        + "\n[app:other]\nuse = egg:wsgihub-django#app\nsettings = djsite_other.settings\n"
    )
    env = {k: v for k, v in os.environ.items() if k == "PATH"}
    result = run_python(
        f"""
import wsgihub
from webtest import TestApp
hub = wsgihub.load("config:{site}")
print(hub.peg("root").framework, hub.peg("legacy").framework)
print(hub.url_for("legacy:blog:detail", pk=2), hub.url_for("root:blog:detail", pk=2))
print(TestApp(hub).get("/legacy/prefix/").text, "|", TestApp(hub).get("/blog/2/").text)
print(hub.peg("root").app is hub.peg("legacy").app)
try:
    wsgihub.load("config:{two}")
except wsgihub.WsgihubError as exc:
    print(type(exc).__name__, exc)
""",
        WSGIHUB_DISABLE_PLUGIN_AUTOLOAD="",
        **env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "django django",
        "/legacy/blog/2/ /blog/2/",
        "/legacy/ /legacy/ | post 2",
        "True",
    ]
    assert (
        "Warning" not in result.stderr
    )  # one handler per project: no cookie collision with itself
    assert lines[4].startswith(
        f"MountError {two}: [app:other] Django settings 'djsite_other.settings' cannot be loaded: this process already runs Django with 'djsite_legacy.settings'"
    )


def test_template_library_without_installed_apps_and_hub_url_fallbacks() -> None:
    out = _run(
        """
from django.template import TemplateSyntaxError, engines
source = '{% load wsgihub %}{% hub_url "legacy:blog:detail" pk=3 %}'
try:
    engines["django"].from_string(source)
except TemplateSyntaxError:
    print("no library before the mount")
try:
    wsgihub_django.hub_url("legacy:home")
except wsgihub.WsgihubError as exc:
    print("no hub:", exc)
hub = make_hub()
hub.mount("/legacy", get_wsgi_application(), name="legacy")
print(engines["django"].from_string(source).render({}))
print(wsgihub_django.hub_url("legacy:home"))
""",
        settings="djsite_legacy.settings_bare",
    )
    assert out == [
        "no library before the mount",
        (
            "no hub: no wsgihub hub: this Django project is not mounted on a Hub and no hub serves the current "
            "request (mount it with hub.mount(prefix, get_wsgi_application()))"
        ),
        "/legacy/blog/3/",
        "/legacy/",
    ]
