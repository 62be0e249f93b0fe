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


# -- the hub's own cost per native request, in-process (python -m benchmarks.bench_asgi) -------------
def _scope(path: str) -> dict[str, object]:
    """A scope as uvicorn makes one (httptools) for ``GET path``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
        "state": {},
    }


def paired(rounds: int = 15, number: int = 3000) -> dict[str, float]:
    """CPU µs per call (best round): the FastAPI app alone at ``/hello`` vs through the hub at ``/fast/hello``.

    ``hub``: what ``wsgihub serve --server uvicorn`` serves, front layers with
    their defaults (request IDs on, no proxy trusted, no access log);
    ``hub-off``: the same with request IDs off (``--request-id-header ''``);
    ``bare``: ``hub.asgi`` without front layers (``uvicorn site:hub.asgi``);
    ``alone-root``: the app alone given the hub's scope (``root_path`` /fast,
    as ``uvicorn --root-path /fast``): Starlette's own cost of a prefix.
    All are called in turns in one process on one uvloop loop, so the
    differences are the hub's own cost per native request (and Starlette's
    for a ``root_path``), whatever else the machine runs.
    """
    import time

    import uvloop

    from wsgihub.asgi import ASGIHub
    from wsgihub.serve import ServeOptions
    from wsgihub.servers.front import front

    hub = make_asgi_hub()
    options = ServeOptions()
    off = ServeOptions(request_id_header="")
    apps = {
        "alone": (fastapi_app, "/hello", ""),
        # the scope the hub gives the app (uvicorn --root-path /fast): Starlette's cost of a prefix
        "alone-root": (fastapi_app, "/fast/hello", "/fast"),
        "bare": (ASGIHub(hub), "/fast/hello", ""),
        "hub-off": (ASGIHub(hub, front(hub, off), options=off), "/fast/hello", ""),
        "hub": (ASGIHub(hub, front(hub, options), options=options), "/fast/hello", ""),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        pass

    async def run(app: object, path: str, root: str) -> float:
        began = time.process_time()
        for _ in range(number):
            scope = _scope(path)
            scope["root_path"] = root
            await app(scope, receive, send)  # type: ignore[operator]
        return (time.process_time() - began) / number * 1e6

    async def main() -> dict[str, float]:
        best = dict.fromkeys(apps, float("inf"))
        for _ in range(rounds):
            for name, (app, path, root) in apps.items():
                best[name] = min(best[name], await run(app, path, root))
        return best

    return uvloop.run(main())


if __name__ == "__main__":
    result = paired()
    alone = result["alone"]
    print(f"FastAPI alone {alone:.1f} µs per call (best of 15 rounds of 3000, CPU time)")
    for name in ("alone-root", "bare", "hub-off", "hub"):
        print(f"  {name:5} {result[name]:.1f} µs (+{result[name] - alone:.1f} µs, alone/{name} {alone / result[name]:.3f})")
