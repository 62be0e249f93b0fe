"""An app module that raises while being imported (not an ImportError)."""

from __future__ import annotations

RATIO = 1 / 0


def app(environ: object, start_response: object) -> list[bytes]:
    return []
