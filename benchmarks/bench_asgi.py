"""The ASGI apps ``benchmarks/http.py`` serves (issue 12 §5); FastAPI is imported here only.

* ``fastapi_app`` answers ``/hello`` with the same body as the WSGI apps.
* ``make_asgi_hub()`` is ``bench_apps.make_hub()`` (Django ``/``, Flask ``/new``,
  Pyramid ``/api``) plus ``fastapi_app`` at ``/fast``: the FastAPI route behind
  the hub is ``/fast/hello``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

import wsgihub

from .bench_apps import BODY, make_hub

fastapi_app = FastAPI()


@fastapi_app.get("/hello", response_class=PlainTextResponse)
async def hello() -> str:
    return BODY


def make_asgi_hub() -> wsgihub.Hub:
    """The three-framework hub with the FastAPI app at ``/fast``."""
    hub = make_hub()
    hub.mount("/fast", fastapi_app, name="fast")
    return hub
