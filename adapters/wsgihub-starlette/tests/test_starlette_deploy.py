"""``use = egg:wsgihub-starlette#app`` in a real PasteDeploy site file."""

from __future__ import annotations

from pathlib import Path

import pytest
from wsgihub_starlette import Bridge

import wsgihub
from wsgihub.deploy import DeployError
from wsgihub.errors import ConfigError
from wsgihub.testing import serving

pytest.importorskip("paste.deploy")

SITE = """
[composite:main]
use = egg:wsgihub#hub
trusted_hosts = localhost 127.0.0.1
/api = api

[app:api]
use = egg:wsgihub-starlette#app
app = starlette_apps:make_fastapi
{extra}
"""


def write(tmp_path: Path, extra: str = "") -> str:
    site = tmp_path / "site.ini"
    site.write_text(SITE.format(extra=extra))
    return f"config:{site}"


def test_site_file_mounts_the_app(tmp_path: Path) -> None:
    hub = wsgihub.load(write(tmp_path, "wait_time = 2.5"))
    peg = hub.peg("api")
    assert peg.framework == "starlette"
    assert isinstance(peg.app, Bridge) and peg.app.wait_time == 2.5
    assert hub.url_for("api:read_item", item_id=3) == "/api/items/3"
    with serving(hub) as server:
        assert server.get("/api/items/3").text == '{"item_id":3}'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour = blue", r"\[app:api\] colour: unknown setting; expected app, wait_time"),
        ("wait_time = soon", r"\[app:api\] wait_time: expected a number of seconds, not 'soon'"),
    ],
)
def test_bad_settings_are_one_line(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises((DeployError, ConfigError), match=message) as caught:
        wsgihub.load(write(tmp_path, extra))
    assert "\n" not in str(caught.value)


def test_not_a_starlette_app(tmp_path: Path) -> None:
    site = tmp_path / "site.ini"
    site.write_text(SITE.format(extra="").replace("starlette_apps:make_fastapi", "starlette_apps:plain_wsgi"))
    with pytest.raises((DeployError, ConfigError), match=r"\[app:api\] app: .*not a Starlette or FastAPI app"):
        wsgihub.load(f"config:{site}")
