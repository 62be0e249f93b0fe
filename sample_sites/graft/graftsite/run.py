"""Serve the sample site: ``python -m graftsite.run [--port N]`` (default 8080).

What ``bash scripts/sample.sh`` runs.  It says what it is about to do, then
hands ``site.ini`` to ``wsgihub serve`` (waitress, on 127.0.0.1), exactly as
``wsgihub serve graftsite/site.ini --port N`` would.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import SITE_INI

__all__ = ["main"]

DEFAULT_PORT = 8080


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graftsite.run",
        description="Serve the wsgihub sample site (Django + grafted Flask + Pyramid API).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    args = parser.parse_args(argv)

    from wsgihub.cli import main as wsgihub_main

    from .legacy.settings import DATA_DIR

    say = print
    say("graftsite: the wsgihub sample site")
    say(f"  site file     {SITE_INI}")
    say("  /             legacy  Django blog, login, admin (graftsite.legacy)")
    say(
        "  (graft)       new     Flask: /reports/, /reports/latest, /users/<uid>, /whoami, /logout"
        " (graftsite.new)"
    )
    say("  /api          api     Pyramid JSON API (graftsite.api)")
    say("  /v2           v2      FastAPI service, docs at /v2/docs (graftsite.fastapi_part)")
    say(f"  database      {DATA_DIR / 'legacy.sqlite3'} (migrated and seeded at startup)")
    say("  log in as     demo / demo (the admin too: /admin/)")
    say(f"  running       wsgihub serve {SITE_INI} --port {args.port}")
    sys.stdout.flush()
    return wsgihub_main(["serve", str(SITE_INI), "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
