"""``wsgihub routes`` / ``check`` / ``url`` on the sample site's ``site.ini``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wsgihub.cli import main


def test_routes_lists_every_app(hub: Any, site_ini: Path, capsys: Any) -> None:
    assert main(["routes", str(site_ini), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["legacy:blog:index"]["rule"] == "/blog/"
    assert rows["legacy:blog:detail"]["rule"] == "/blog/<int:pk>/"
    assert rows["legacy:blog:detail"]["framework"] == "django"
    assert rows["legacy:admin:index"]["rule"] == "/admin/"
    # (other keys, such as which graft takes a route, may be added beside these)
    assert rows["new:reports"].items() >= {
        "name": "new:reports",
        "mount": "new",
        "endpoint": "reports",
        "rule": "/reports/",
        "methods": ["GET", "HEAD", "OPTIONS"],
        "framework": "flask",
        "grafted": True,
        "taken_by": [],
    }.items()
    assert rows["new:user"]["rule"] == "/users/<int:uid>"
    assert rows["new:whoami"]["grafted"] is True
    assert rows["api:index"]["rule"] == "/api/"
    assert rows["api:post"]["framework"] == "pyramid"
    assert rows["api:post"]["grafted"] is False


def test_routes_table(hub: Any, site_ini: Path, capsys: Any) -> None:
    assert main(["routes", str(site_ini)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["NAME", "METHODS", "RULE", "FRAMEWORK"]
    line = next(line for line in out.splitlines() if line.startswith("new:reports "))
    assert line.split()[-2:] == ["flask", "(graft)"]


def test_check_finds_no_problem(hub: Any, site_ini: Path, capsys: Any) -> None:
    code = main(["check", str(site_ini)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   legacy: django at /" in out
    assert "ok   new: flask grafted over legacy" in out
    assert "ok   api: pyramid at /api" in out
    assert "WARN" not in out


def test_url_builds_across_apps(hub: Any, site_ini: Path, capsys: Any) -> None:
    assert main(["url", str(site_ini), "-e", "legacy:blog:detail", "pk=3"]) == 0
    assert main(["url", str(site_ini), "-e", "new:user", "uid=5"]) == 0
    assert main(["url", str(site_ini), "-e", "api:post", "pk=7"]) == 0
    assert capsys.readouterr().out.split() == ["/blog/3/", "/users/5", "/api/posts/7"]


def test_python_site_spec_works_with_the_cli(hub: Any, capsys: Any) -> None:
    assert main(["check", "graftsite.site:make_hub"]) == 0
    assert "ok   new: flask grafted over legacy" in capsys.readouterr().out
