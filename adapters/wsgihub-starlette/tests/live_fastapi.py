"""A FastAPI app for ``wsgihub serve --mount /api=live_fastapi:app`` (test_serve_live.py).

Its lifespan writes ``LIFESPAN startup PID`` / ``LIFESPAN shutdown PID`` lines to stdout.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from wsgihub_starlette import HubURL


def say(line: str) -> None:
    """Write ``line`` to stdout in one ``write(2)``.

    Every gunicorn worker shares the serve command's stdout pipe.  ``print``
    writes the text and its newline in two calls, so two workers ending at
    once interleave them (``LIFESPAN shutdown 1LIFESPAN shutdown 2``); one
    write of less than ``PIPE_BUF`` bytes to a pipe is never split.
    """
    os.write(1, (line + "\n").encode())


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    say(f"LIFESPAN startup {os.getpid()}")
    yield {"started_in": os.getpid()}
    say(f"LIFESPAN shutdown {os.getpid()}")


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id:int}")
def read_item(item_id: int, request: Request, hub_url: HubURL) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "started_in": request.state.started_in,
        "me": hub_url("api:read_item", item_id=item_id),
    }


@asynccontextmanager
async def failing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    raise RuntimeError("no database")
    yield


#: An app whose lifespan startup fails (the serve command must say so in one line).
failing_app = FastAPI(lifespan=failing_lifespan)
