"""``egg:wsgihub-django#app`` in a real site file: errors read ``FILE: [app:NAME] KEY: message``.

The test process runs the djsite_legacy project (see conftest); a settings
module that cannot be imported is tried in a fresh interpreter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from djsite_testing import run_python

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
        f"{path}: [app:legacy] debug: unknown setting; the only one is 'settings = your_project.settings'"
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
