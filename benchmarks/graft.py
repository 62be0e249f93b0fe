"""What a graft costs a request: real Flask grafted over real Django, in-process, in one run.

Usage::

    python benchmarks/graft.py [--rounds 40] [--batch 200]

Needs Django, Flask and the wsgihub-django / wsgihub-flask adapters (the dev
environment has them).  Django is configured in code
(:mod:`benchmarks.minimal_django`: this module as the URL conf, with a page
route, Common and CSRF middleware); the Flask app has 10 or 500 routes, one of them
``/reports/<int:pk>``.  Every request goes through
:func:`wsgihub.testing.call` (a fresh environ, the body consumed and
closed), and the variants take turns in every round (25 requests at a time,
in a new random order each turn; the time is the process's CPU time, so on a shared machine the
time other processes hold the core is not counted):

``legacy alone``      GET /page/3/ on a hub with Django only
``legacy, grafted``   the same request with the Flask app grafted over Django:
                      the graft does not take it and it goes beneath
``new alone``         GET /reports/3 on a hub with the Flask app mounted at /
``new, grafted``      the same request taken by the graft (GET: the 404
                      fall-through is on by default, so its status is peeked)
``404 falls through`` GET /gone/3: the graft takes it, answers 404, Django answers
                      (informative: it pays Flask's own 404)
``plain ...``         GET /page/3/ on a trivial WSGI app, alone and with the same
                      graft: the graft's own cost on a request passing by, in µs,
                      without Django's scatter (shown over the best Django request)

Each variant runs once with the same path every time ("one path": the
board's and the graft's caches of resolved paths help, as for popular
pages) and once cycling through 8192 ids ("many paths": more than they
keep, so every request asks the routers).  The table gives the best round's
cost per request and each graft's added cost as a share of the legacy
request's own cost, paired within rounds (the machine's load cancels out);
goals: at most 5 % for both, and flat from 10 to 500 grafted routes.  Paste
it into docs/benchmarks.md.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# benchmarks/http.py would shadow the standard library's http package.
_sys.path[:] = [p for p in _sys.path if _Path(p or ".").resolve() != _Path(__file__).resolve().parent]
# The repository's root instead, for the benchmarks package (minimal_django).
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import gc
import platform
import random
import statistics
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

import django
import flask
from django.http import HttpResponse
from django.urls import path

import wsgihub
from benchmarks import minimal_django
from wsgihub.testing import call

ROUTE_COUNTS = (10, 500)
LEGACY_PATH = "/page/3/"
GRAFTED_PATH = "/reports/3"
GONE_PATH = "/gone/3"


# -- the legacy Django project (settings in this module) ------------------------------------------
def page(request: object, pk: int) -> HttpResponse:
    return HttpResponse(f"legacy page {pk}")


def gone(request: object, pk: int) -> HttpResponse:
    return HttpResponse(f"legacy gone {pk}")


urlpatterns = [
    path("page/<int:pk>/", page, name="page"),
    path("gone/<int:pk>", gone, name="gone"),
    *[path(f"legacy{i}/<slug:slug>/", page, name=f"legacy{i}") for i in range(50)],
]

DJANGO = minimal_django.configure(
    __name__, ["django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware"]
)


# -- the new Flask app --------------------------------------------------------------------------------
def flask_app(routes: int) -> flask.Flask:
    """``routes`` routes: ``/reports/<int:pk>``, ``/gone/<int:pk>`` (404) and generated ones."""
    app = flask.Flask(f"bench_new_{routes}", static_folder=None)

    @app.get("/reports/<int:pk>")
    def reports(pk: int) -> str:
        return f"new report {pk}"

    @app.get("/gone/<int:pk>")
    def gone(pk: int) -> str:
        flask.abort(404)

    def view(**values: Any) -> str:
        return "generated"

    for i in range(routes - 2):
        app.add_url_rule(f"/section{i}/<slug>/item/<int:n>", f"generated{i}", view)
    return app


def trivial(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A plain WSGI app beneath: the graft's own cost on a request passing by, without Django's noise."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def hub(*mounts: tuple[str, Any], graft: Any = None) -> wsgihub.Hub:
    site = wsgihub.Hub()
    for prefix, app in mounts:
        site.mount(prefix, app, name="new" if isinstance(app, flask.Flask) else "legacy")
    if graft is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wsgihub.MountWarning)
            site.graft(graft, over="legacy", name="new")
    return site


#: Distinct ids the "many paths" rounds cycle through: more than a graft keeps verdicts for.
MANY = 8192

#: Requests a variant runs before the next one takes its turn, within a round's batch.
SLICE = 25


def variants(routes: int) -> dict[str, Callable[[int], Any]]:
    """The five requests for a Flask app of ``routes`` routes; each takes the id to put in its path."""
    new = flask_app(routes)
    alone = hub(("/", DJANGO))
    grafted = hub(("/", DJANGO), graft=new)
    direct = hub(("/", flask_app(routes)))
    plain = hub(("/", trivial))
    plain_grafted = hub(("/", trivial), graft=flask_app(routes))
    for site, where, expected in (
        (plain, LEGACY_PATH, "ok"),
        (plain_grafted, LEGACY_PATH, "ok"),
        (alone, LEGACY_PATH, "legacy page 3"),
        (grafted, LEGACY_PATH, "legacy page 3"),
        (direct, GRAFTED_PATH, "new report 3"),
        (grafted, GRAFTED_PATH, "new report 3"),
        (grafted, GONE_PATH, "legacy gone 3"),
    ):
        answer = call(site, where)
        assert answer.text == expected, (where, answer.status, answer.text[:200])
    return {
        "legacy alone": lambda i: call(alone, f"/page/{i}/"),
        "legacy, grafted": lambda i: call(grafted, f"/page/{i}/"),
        "new alone": lambda i: call(direct, f"/reports/{i}"),
        "new, grafted": lambda i: call(grafted, f"/reports/{i}"),
        "404 falls through": lambda i: call(grafted, f"/gone/{i}"),
        "plain alone": lambda i: call(plain, f"/page/{i}/"),
        "plain, grafted": lambda i: call(plain_grafted, f"/page/{i}/"),
    }


Result = dict[str, dict[int, dict[str, list[float]]]]


def measure(rounds: int, batch: int, collect: bool = False) -> Result:
    """CPU µs per request of every variant, per round, for one path and for many paths.

    The variants take turns in every round, :data:`SLICE` requests at a
    time, in a new random order each turn (no variant always runs right
    after the same other one, whose code and data it would find warm), so a
    round's differences are paired measurements.  The time is the process's CPU time (``time.process_time``):
    on a shared machine the time another process holds the core is not
    counted against the variant that happened to be running.  The cyclic garbage collector is off
    during a batch unless ``collect`` (``--gc on``: as a server runs, objects a request leaves
    tracked are walked by the collections its allocations set off).
    """
    shuffle = random.Random(20261130).shuffle
    runs = {routes: variants(routes) for routes in ROUTE_COUNTS}
    times: Result = {
        mode: {r: {name: [] for name in table} for r, table in runs.items()} for mode in ("one path", "many paths")
    }
    counter = 0
    for _ in range(rounds):
        for mode in times:
            for routes, table in runs.items():
                ids = [3] * batch if mode == "one path" else [(counter + k) % MANY for k in range(batch)]
                took = dict.fromkeys(table, 0.0)
                gc.collect()
                if not collect:
                    gc.disable()
                try:
                    # the batch in slices, the variants taking turns slice by slice (a slower moment of
                    # the machine falls on all of them alike), in a new random order each time
                    for start in range(0, batch, SLICE):
                        part = ids[start : start + SLICE]
                        order = list(table.items())
                        shuffle(order)
                        for name, request in order:
                            began = time.process_time()
                            for i in part:
                                request(i)
                            took[name] += time.process_time() - began
                finally:
                    gc.enable()
                for name, seconds in took.items():
                    times[mode][routes][name].append(seconds / batch * 1e6)
            counter += batch
    return times


def report(times: Result) -> str:
    lines = [
        f"Python {platform.python_version()}, Django {django.get_version()}, Flask {metadata.version('flask')}",
        "",
        "| paths | grafted routes | legacy alone | legacy, grafted | graft adds | passing by, plain app beneath | new alone | new, grafted | graft adds | 404 falls through |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    worst = 0.0
    passing: dict[str, list[float]] = {}
    for mode, by_routes in times.items():
        for routes, row in by_routes.items():
            best = {name: min(values) for name, values in row.items()}
            legacy = row["legacy alone"]
            # paired: the difference within each round, over that round's legacy request
            by = statistics.median((g - a) / a for g, a in zip(row["legacy, grafted"], legacy))
            taken = statistics.median((g - d) / a for g, d, a in zip(row["new, grafted"], row["new alone"], legacy))
            plain = statistics.median(g - a for g, a in zip(row["plain, grafted"], row["plain alone"]))
            worst = max(worst, by, taken)
            passing.setdefault(mode, []).append(by)
            lines.append(
                f"| {mode} | {routes} | {best['legacy alone']:.1f} µs | {best['legacy, grafted']:.1f} µs | {by:+.1%} "
                f"| {plain:+.2f} µs ({plain / best['legacy alone']:+.1%}) | {best['new alone']:.1f} µs | {best['new, grafted']:.1f} µs | {taken:+.1%} "
                f"| {best['404 falls through']:.1f} µs |"
            )
    lines.append("")
    lines.append(
        "graft adds: the median over rounds of (grafted - alone) / legacy alone, paired within each round. "
        f"Worst: {worst:+.1%} of the legacy request's own cost (goal: at most +5.0%) -> "
        f"{'met' if worst <= 0.05 else 'NOT met'}"
    )
    for mode, shares in passing.items():
        lines.append(
            f"{mode}: a request passing by the graft costs {shares[0]:+.1%} with {ROUTE_COUNTS[0]} grafted routes, "
            f"{shares[-1]:+.1%} with {ROUTE_COUNTS[-1]} (goal: flat)"
        )
    return "\n".join(lines)


def decompose(routes: int, repeat: int = 15, number: int = 2000) -> dict[str, float]:
    """CPU µs, best of ``repeat``: what a graft adds, piece by piece, without any framework's scatter.

    ``passing by``: a plain app beneath, with and without the graft (the gate).
    ``taken, hub's part``: a trivial routed app (the testing kit's reference
    framework) mounted directly and grafted, same path every time (the
    router's answer is kept): the peek at the status and the dispatch.
    ``router asked``: the graft's question to the Flask app's router for a
    path not seen lately (the adapter's ``match``: an exact shortcut when a
    simple rule takes the path; where only one rule can take the path's
    first segment, the answer is Werkzeug's match itself, rule and values),
    what such a path costs on top; Flask then takes that match instead of
    matching the path again (else it matches again, as mounted directly).  ``werkzeug match``: Werkzeug's own ``MapAdapter.match`` for
    the same path, what the question cost before the shortcut.
    """
    from wsgihub.plugins import make_plugins
    from wsgihub.testing import ReferenceApp
    from wsgihub.testing.reference import ReferencePlugin

    def reference_hub(graft: bool) -> wsgihub.Hub:
        site = wsgihub.Hub(plugins=make_plugins(plugins=[ReferencePlugin()]))
        app = ReferenceApp("new", {"report": "/reports/<int:pk>"})
        if graft:
            site.mount("/", trivial, name="legacy")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", wsgihub.MountWarning)
                site.graft(app, over="legacy", name="new")
        else:
            site.mount("/", app, name="new")
        return site

    def best(function: Callable[[], Any]) -> float:
        # CPU time, as measure(): time another process holds the core is not counted
        return min(timeit.repeat(function, number=number, repeat=repeat, timer=time.process_time)) / number * 1e6

    plain, plain_grafted = hub(("/", trivial)), hub(("/", trivial), graft=flask_app(routes))
    direct, grafted = reference_hub(False), reference_hub(True)
    new = flask_app(routes)
    router = hub(("/", trivial), graft=new).peg("new").adapter
    assert router is not None and router.match("/reports/3", "GET")
    werkzeug = new.url_map.bind("localhost", "/")
    return {
        "passing by": best(lambda: call(plain_grafted, LEGACY_PATH)) - best(lambda: call(plain, LEGACY_PATH)),
        "taken, hub part": best(lambda: call(grafted, GRAFTED_PATH)) - best(lambda: call(direct, GRAFTED_PATH)),
        "router asked": best(lambda: router.match(GRAFTED_PATH, "GET")),
        "werkzeug match": best(lambda: werkzeug.match(GRAFTED_PATH, "GET")),
    }


def only(name: str, requests: int, warm: int = 300, one_path: bool = False, collect: bool = True) -> int:
    """``requests`` requests of one variant (10 routes), each on a path not seen before, after ``warm`` ones.

    With ``one_path`` every request is for the same path (id 3: popular pages).
    Deterministic work for an instruction counter (run it twice, with
    ``requests`` and with 0, under the same ``PYTHONHASHSEED``).  The cyclic garbage collector
    runs unless not ``collect`` (``--gc off``).
    """
    table = variants(ROUTE_COUNTS[0])
    if name not in table:
        print(f"no variant {name!r}; one of: {', '.join(table)}", file=sys.stderr)
        return 2
    request = table[name]
    gc.collect()
    if not collect:
        gc.disable()
    for i in range(warm + requests):
        request(3 if one_path else (1000 + i) % MANY)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument(
        "--only",
        metavar="VARIANT",
        help="run --requests requests of one variant (10 routes, a new path each) and stop: for instruction "
        "counts, e.g. valgrind --tool=callgrind, with --requests N and 0 (the difference over N is per request)",
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--one-path", action="store_true", help="with --only: the same path every request")
    parser.add_argument(
        "--gc",
        choices=("on", "off"),
        help="the cyclic garbage collector during the requests (default: off for the timed batches, "
        "on for --only)",
    )
    options = parser.parse_args(argv)
    if options.only is not None:
        return only(options.only, options.requests, one_path=options.one_path, collect=options.gc != "off")
    times = measure(options.rounds, options.batch, collect=options.gc == "on")
    print(report(times))
    legacy = min(min(row["legacy alone"]) for by_routes in times.values() for row in by_routes.values())
    print()
    print(f"piece by piece (best of 15 x 2000, µs; share of the best legacy request, {legacy:.1f} µs):")
    print()
    print(
        "| grafted routes | passing by (gate) | taken: hub's part | taken, path not seen lately: + the router asked "
        "| (Werkzeug's own match, for comparison) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for routes in ROUTE_COUNTS:
        pieces = decompose(routes)
        print(
            f"| {routes} | {pieces['passing by']:+.2f} µs ({pieces['passing by'] / legacy:+.1%}) "
            f"| {pieces['taken, hub part']:+.2f} µs ({pieces['taken, hub part'] / legacy:+.1%}) "
            f"| {pieces['router asked']:+.2f} µs ({pieces['router asked'] / legacy:+.1%}) "
            f"| {pieces['werkzeug match']:.2f} µs ({pieces['werkzeug match'] / legacy:.1%}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
