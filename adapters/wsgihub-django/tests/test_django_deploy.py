"""``egg:wsgihub-django#app`` in a real site file, and real ``django-admin startproject`` folders.

Errors read ``FILE: [app:NAME] KEY: message``.  The test process runs the
djsite_legacy project (see conftest); a settings module that cannot be
imported, and the startproject folders, run in fresh interpreters (the
installed ``wsgihub`` script, with no PYTHONPATH: the loader puts the
current directory on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from djsite_testing import run_python, wsgihub_script

import wsgihub
from wsgihub.errors import DeployError


def _site(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "site.ini"
    path.write_text(
        "[composite:main]\nuse = egg:wsgihub#hub\n/legacy = legacy\n\n"
        "[app:legacy]\nuse = egg:wsgihub-django#app\n" + body
    )
    return path


def test_an_unknown_key_names_file_section_and_key(tmp_path: Path) -> None:
    path = _site(tmp_path, "settings = djsite_legacy.settings\ndebug = true\n")
    with pytest.raises(DeployError) as info:
        wsgihub.load(str(path))
    assert str(info.value) == (
        f"{path}: [app:legacy] debug: unknown setting; the settings are 'settings = your_project.settings' and "
        "'static = auto|insecure|whitenoise|off'"
    )


def test_a_second_project_is_a_mount_error_naming_file_and_section(tmp_path: Path) -> None:
    path = _site(tmp_path, "settings = djsite_other.settings\n")
    with pytest.raises(wsgihub.MountError) as info:
        wsgihub.load(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: [app:legacy] Django settings 'djsite_other.settings' cannot be loaded")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "settings = djsite_nope.settings\n",
            (
                "[app:legacy] settings: 'djsite_nope.settings' cannot be imported: "
                "ModuleNotFoundError: No module named 'djsite_nope'"
            ),
        ),
        ("", "[app:legacy] settings: required: your_project.settings (or set DJANGO_SETTINGS_MODULE)"),
    ],
    ids=["unimportable", "missing"],
)
def test_settings_errors_name_file_section_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = _site(tmp_path, body)
    result = run_python(
        f"""
import json, wsgihub
try:
    wsgihub.load({str(path)!r})
except wsgihub.WsgihubError as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""
    )
    assert result.returncode == 0, result.stderr
    kind, message = json.loads(result.stdout)
    assert kind == "FactoryError" and message == f"{path}: {expected}"


# -- a real django-admin startproject folder: the cwd is on sys.path; loading reads the URL conf --------
@pytest.fixture
def startproject(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fresh ``django-admin startproject legacy .`` folder and an environment without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "legacy", "."],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120,
    )
    return tmp_path, env


@pytest.mark.live
def test_a_mount_from_a_fresh_django_project_imports_from_the_cwd(startproject: tuple[Path, dict[str, str]]) -> None:
    folder, env = startproject
    done = subprocess.run(
        [*wsgihub_script(), "routes", "--mount", "/=legacy.wsgi:application"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert "root:admin:index" in done.stdout and "django" in done.stdout, done.stdout


@pytest.mark.live
def test_a_site_file_in_a_fresh_django_project_imports_from_the_cwd(startproject: tuple[Path, dict[str, str]]) -> None:
    folder, env = startproject
    (folder / "site.ini").write_text(
        "[composite:main]\nuse = egg:wsgihub#hub\n/ = legacy\n\n"
        "[app:legacy]\nuse = egg:wsgihub-django#app\nsettings = legacy.settings\n"
    )
    done = subprocess.run(
        [*wsgihub_script(), "routes", "site.ini"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert "legacy:admin:index" in done.stdout, done.stdout




@pytest.mark.live
@pytest.mark.parametrize("how", ["mount", "site-file"])
def test_check_fails_on_a_django_url_conf_that_raises(startproject: tuple[Path, dict[str, str]], how: str) -> None:
    """Loading imports the URL conf as the first request would: ``check`` exits 2 where serving would 500."""
    folder, env = startproject
    urls = folder / "legacy" / "urls.py"
    urls.write_text(urls.read_text() + "\nraise LookupError('the urls module is half-written')\n")
    if how == "mount":
        argv = ["check", "--mount", "/=legacy.wsgi:application"]
    else:
        (folder / "site.ini").write_text(
            "[composite:main]\nuse = egg:wsgihub#hub\n/ = legacy\n\n"
            "[app:legacy]\nuse = egg:wsgihub-django#app\nsettings = legacy.settings\n"
        )
        argv = ["check", "site.ini"]
    done = subprocess.run(
        [*wsgihub_script(), *argv], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout) == (2, ""), (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("wsgihub: error: "), done.stderr
    assert "URL conf cannot be read: LookupError: the urls module is half-written" in done.stderr, done.stderr
