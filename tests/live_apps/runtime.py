"""A plain WSGI app answering with the serving process's runtime settings (no framework, no adapter).

For tests of what ``wsgihub serve`` sets in the process it serves from: the
GIL switch interval (``--switch-interval``) and whether the startup objects
were frozen out of garbage collection (uvicorn's workers).
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps(
        {"pid": os.getpid(), "switch_interval": sys.getswitchinterval(), "gc_frozen": gc.get_freeze_count()}
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
