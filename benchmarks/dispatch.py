"""Per-request dispatch cost: the Hub against its peers, measured in one run.

Usage::

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . werkzeug paste wsgi-party
    /tmp/bench/bin/python benchmarks/dispatch.py [--repeat 7] [--number 20000]

For 3, 100 and 1000 mounts and a 4-segment path that lands on one mount, it
times a trivial WSGI app called directly, through Werkzeug's
``DispatcherMiddleware``, Paste's ``URLMap``, wsgi_party's ``WSGIParty``
around a ``DispatcherMiddleware``, and the wsgihub ``Hub`` (board +
partyline + pegboard environ keys).  Every variant gets a fresh copy of the
same environ per request (as a server builds one) and its body is consumed
and closed; the variants take turns in every round.  The table gives the
best-of-``repeat`` cost per request and the
ratio to the direct call; paste it into docs/benchmarks.md.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# benchmarks/http.py would shadow the standard library's http package.
_sys.path[:] = [p for p in _sys.path if _Path(p or ".").resolve() != _Path(__file__).resolve().parent]

import argparse
import gc
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from wsgihub.testing import make_environ

MOUNT_COUNTS = (3, 100, 1000)
PATH = "/m1/section/item/42"  # 4 segments, the first one is a mount


def trivial_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


#: The request every variant gets a fresh copy of: what a server builds for a GET of PATH.
BASE_ENVIRON: dict[str, Any] = make_environ(PATH)


class Floor:
    """The least a dispatcher class can do for the goal's "Hub" row.

    No dispatch at all: it knows the one benchmark path in advance.  It only
    pays what the goal requires of every request: being a WSGI callable
    object, the ``SCRIPT_NAME``/``PATH_INFO`` shift and the three pegboard
    environ keys (``pegboard.board``, ``pegboard.peg``, ``wsgihub.hub``).
    The Hub can only come close to it; this row shows how close.
    """

    def __init__(self) -> None:
        self.routes = {PATH: (trivial_app, "/m1", PATH[len("/m1"):])}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        app, prefix, rest = self.routes[environ["PATH_INFO"]]
        environ["SCRIPT_NAME"] = environ["SCRIPT_NAME"] + prefix
        environ["PATH_INFO"] = rest
        environ["pegboard.board"] = environ["wsgihub.hub"] = self
        environ["pegboard.peg"] = app
        return app(environ, start_response)


def mounts(n: int) -> dict[str, Any]:
    return {f"/m{i}": trivial_app for i in range(n)}


def build_variants(n: int) -> dict[str, Callable[..., Any]]:
    from paste.urlmap import URLMap
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from wsgi_party import WSGIParty

    import wsgihub
    from wsgihub.plugins import make_plugins

    urlmap = URLMap()
    for prefix, app in mounts(n).items():
        urlmap[prefix] = app
    hub = wsgihub.Hub(plugins=make_plugins(autoload=False))
    hub.mount("/", trivial_app, name="root")
    for prefix, app in mounts(n).items():
        hub.mount(prefix, app)
    return {
        "direct call": trivial_app,
        "Werkzeug DispatcherMiddleware": DispatcherMiddleware(trivial_app, mounts(n)),
        "Paste URLMap": urlmap,
        "wsgi_party + DispatcherMiddleware": WSGIParty(DispatcherMiddleware(trivial_app, mounts(n))),
        "floor: the goal's required writes only": Floor(),
        "wsgihub Hub": hub,
    }


def check(app: Callable[..., Any], name: str) -> None:
    """Every variant must really dispatch to the mount (or the test is void)."""
    environ = dict(BASE_ENVIRON)
    body = app(environ, start_response)
    assert b"".join(body) == b"ok", name
    if name != "direct call":
        assert environ["SCRIPT_NAME"] == "/m1" and environ["PATH_INFO"] == "/section/item/42", (name, environ)


def once(app: Callable[..., Any], number: int) -> float:
    """Seconds per request over ``number`` requests."""
    base = BASE_ENVIRON
    gc.disable()
    t0 = time.perf_counter()
    for _ in range(number):
        body = app(dict(base), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    elapsed = time.perf_counter() - t0
    gc.enable()
    return elapsed / number


def per_request(variants: dict[str, Callable[..., Any]], number: int, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` seconds per request for every variant.

    The variants take turns within each round, so a busy machine slows
    them alike and the ratios of one run stay comparable.
    """
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(repeat):
        for name, app in variants.items():
            best[name] = min(best[name], once(app, number))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} on {platform.machine()}, path {PATH!r}, "
          f"best of {args.repeat} x {args.number} requests\n")
    header = "| dispatcher | " + " | ".join(f"{n} mounts" for n in MOUNT_COUNTS) + " |"
    print(header)
    print("|" + "---|" * (len(MOUNT_COUNTS) + 1))
    results: dict[str, list[tuple[float, float]]] = {}
    for n in MOUNT_COUNTS:
        variants = build_variants(n)
        for name, app in variants.items():
            check(app, name)
        timings = per_request(variants, args.number, args.repeat)
        direct = timings["direct call"]
        for name, seconds in timings.items():
            results.setdefault(name, []).append((seconds, seconds / direct))
    for name, cells in results.items():
        row = " | ".join(f"{s * 1e6:.2f} µs ({r:.2f}x)" for s, r in cells)
        print(f"| {name} | {row} |")
    hub = results["wsgihub Hub"]
    werkzeug = results["Werkzeug DispatcherMiddleware"]
    against = [h[0] / w[0] for h, w in zip(hub, werkzeug)]
    flat = max(s for s, _ in hub) / min(s for s, _ in hub)
    print(f"\nHub / DispatcherMiddleware: {', '.join(f'{r:.2f}x' for r in against)} "
          f"(goal <= 0.8x: {'met' if all(r <= 0.8 for r in against) else 'NOT met'})")
    print(f"Hub slowest / fastest over {', '.join(map(str, MOUNT_COUNTS))} mounts: {flat:.2f}x "
          f"(flat: {'yes' if flat <= 1.15 else 'NO'})")
    print(f"Hub <= 2.0x direct at every mount count: {'yes' if all(r <= 2.0 for _, r in hub) else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
