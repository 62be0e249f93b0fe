"""``python -m wsgihub.pipeline site.wsgi [serve options]``: serve a descriptor with ``wsgihub serve``.

The runner is not a server of its own: it hands its arguments to
``wsgihub serve`` (:func:`wsgihub.cli.main`), so a descriptor gets the same
bus, drain, option checks and one-line messages as any site
(``--port 70000`` is refused with exit code 2; an address in use is named).
A descriptor's ``#!`` line (:data:`wsgihub.pipeline.SHEBANG`) runs
``wsgihub serve`` directly.

Nothing imports this module (the CLI sits above the deploy layer), so the
layers stay one-way.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from wsgihub.cli import main as cli_main

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wsgihub serve DESCRIPTOR [options]``; return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    return cli_main(["serve", *args])


if __name__ == "__main__":
    sys.exit(main())
