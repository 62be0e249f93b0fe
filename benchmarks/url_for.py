"""Cross-app ``hub.url_for`` against each framework's own URL building, in one run.

Usage (needs the four frameworks and adapters installed, e.g. the
integration tox env or ``bash scripts/sample.sh``'s environment)::

    python benchmarks/url_for.py [--number 20000] [--repeat 5]

For each framework it times, inside a request of that framework, its own
URL building (``flask.url_for``, Django's ``reverse``, Pyramid's
``request.route_path``, Werkzeug's ``MapAdapter.build``), then
``hub.url_for("<mount>:item", n=...)`` for the same route from inside a
request of *another* framework (the caller named in the table).  The apps
are those of ``tests/integration/xsite``.  Goal: <= 1.5x native for Flask,
Pyramid and Werkzeug, <= 1.3x for Django.
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
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

GOALS = {"flask": 1.5, "dj": 1.3, "pyr": 1.5, "wz": 1.5}
CALLER = {"flask": "dj", "dj": "flask", "pyr": "wz", "wz": "pyr"}
LABEL = {"flask": "Flask", "dj": "Django", "pyr": "Pyramid", "wz": "Werkzeug"}


def best(func: Callable[[], Any], number: int, repeat: int) -> float:
    result = float("inf")
    for _ in range(repeat):
        gc.disable()
        t0 = time.perf_counter()
        for _ in range(number):
            func()
        result = min(result, (time.perf_counter() - t0) / number)
        gc.enable()
    return result


def native_builders(hub: Any) -> dict[str, tuple[Any, Callable[[Any], Callable[[], Any]]]]:
    """mount -> (name, function of the framework request returning a zero-arg builder)."""
    import flask
    from django.urls import reverse

    def flask_native(request: Any) -> Callable[[], Any]:
        return lambda: flask.url_for("item", n=5)

    def django_native(request: Any) -> Callable[[], Any]:
        return lambda: reverse("item", kwargs={"n": 5})

    def pyramid_native(request: Any) -> Callable[[], Any]:
        return lambda: request.route_path("item", n=5)

    def werkzeug_native(request: Any) -> Callable[[], Any]:
        adapter = hub.peg("wz").adapter.app.url_map.bind_to_environ(request.environ)
        return lambda: adapter.build("item", {"n": 5})

    return {
        "flask": ("flask.url_for", flask_native),
        "dj": ("django.urls.reverse", django_native),
        "pyr": ("request.route_path", pyramid_native),
        "wz": ("MapAdapter.build", werkzeug_native),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    from xsite.apps import make_hub

    hub = make_hub()
    print(f"Python {platform.python_version()}, best of {args.repeat} x {args.number} builds\n")
    print("| target | native (inside its own request) | hub.url_for (inside a request of) | ratio | goal |")
    print("|---|---|---|---|---|")
    for mount, (native_name, native) in native_builders(hub).items():
        with hub.request_context(mount) as request:
            build = native(request)
            own = build()
            native_time = best(build, args.number, args.repeat)
        caller = CALLER[mount]
        with hub.request_context(caller):
            endpoint = f"{mount}:item"
            cross = hub.url_for(endpoint, n=5)
            hub_time = best(partial(hub.url_for, endpoint, n=5), args.number, args.repeat)
        assert cross == own, (cross, own)  # both include the mount prefix
        ratio = hub_time / native_time
        verdict = "met" if ratio <= GOALS[mount] else "NOT met"
        print(
            f"| {LABEL[mount]} | {native_name}: {native_time * 1e6:.2f} µs | {LABEL[caller]}: "
            f"{hub_time * 1e6:.2f} µs | {ratio:.2f}x | <= {GOALS[mount]}x {verdict} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
