"""What request IDs and the access log cost a request, in-process (issue 11).

The hub of ``benchmarks/http.py`` (Django + Flask + Pyramid, the Flask route
``/new/hello``) is called through the serving stack's front
(:func:`wsgihub.servers.front.front`) as a server calls it, with:

off    ``--request-id-header ''``: neither request IDs nor the access log
ids    request IDs (the default)
log    request IDs + ``--access-log FILE`` (text lines to a temporary file;
       ``--log-format json`` for JSON lines)

Each request's CPU time (``time.process_time()``: every thread of the
process, the access log's writer thread included -- its batches are timed
and spread over the requests they wrote) is measured in interleaved rounds,
and the medians are printed with the difference to ``off``.

By default the CPU caches are emptied between two requests (a pass over
16 MiB and some unrelated Python), which is what a server's requests meet:
a gunicorn sync worker parses, answers and closes a connection between two
calls of the app, and another process runs on the same core.  Measured so,
a request costs what it costs in a real server (340-380 µs here, gunicorn
measured 347), and so does every Python call the front layers add: several
times what a hot loop (``--hot``) shows.  The two agree on which change
helps; only the cold figures predict the server's.

The ``start_response`` here does what waitress does with the response
headers, so the ID header the layers add is paid for as in a server.  What
this still leaves out is the server's own code between two calls of the
app; ``callgrind`` over a real ``wsgihub serve`` gives the instructions of
the whole process per request (``docs/benchmarks.md``, "Access log and
request IDs").

Run from the repository root::

    python benchmarks/accesslog.py                  # 600 requests per setup, caches emptied
    python benchmarks/accesslog.py --hot --requests 20000 --log-format json
"""

from __future__ import annotations

import os
import sys

# benchmarks/http.py is named like the standard library's http package: never let this
# directory shadow it (Python puts the script's directory first on sys.path).
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import argparse
import io
import json
import random
import statistics
import tempfile
import time
import zlib
from types import SimpleNamespace
from typing import Any

ENVIRON = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/new/hello",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8080",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "50000",
    "HTTP_HOST": "127.0.0.1:8080",
    "HTTP_USER_AGENT": "wrk",
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.version": (1, 0),
}


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    """What waitress does with the headers (its start_response checks, build_response_header).

    A response header costs the server per request too: the ID header the
    layer adds is part of what it costs (about 6-9k CPU instructions under
    waitress, callgrind), which a start_response doing nothing left out.
    """
    for name, value in headers:
        if not isinstance(name, str) or not isinstance(value, str):
            raise AssertionError(name)  # noqa: TRY004 - as waitress does
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ValueError(name)
        name.lower()
    lines = [f"HTTP/1.1 {status}"]
    for name, value in headers:
        lines.append("%s: %s" % ("-".join([part.capitalize() for part in name.split("-")]), value))  # noqa: UP031 - waitress's code
    return ("%s\r\n\r\n" % "\r\n".join(lines)).encode("latin-1")  # noqa: UP031 - waitress's code


def one_request(app: Any) -> float:
    """CPU seconds of one request through ``app``, as a server makes it."""
    environ = dict(ENVIRON)
    environ["wsgi.input"] = io.BytesIO(b"")
    started = time.process_time()
    body = app(environ, _start_response)
    for _chunk in body:
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return time.process_time() - started


class Evictor:
    """Empties the CPU caches (data and code) as the rest of a server's work does."""

    def __init__(self) -> None:
        self.data = bytearray(os.urandom(16 << 20))
        self.words = [str(random.random()) for _ in range(3000)]
        self.blob = {f"k{i}": [i, str(i), {"x": i}] for i in range(300)}

    def __call__(self) -> None:
        zlib.crc32(self.data)
        sorted(self.words)
        json.dumps(self.blob)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per setup (default 600)")
    parser.add_argument("--hot", action="store_true", help="keep the caches warm (a loop, not a server)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)

    from benchmarks.bench_apps import make_hub
    from wsgihub.logconfig import configure_access_log
    from wsgihub.servers.front import front

    hub = make_hub()
    apps = {
        "off": front(hub, SimpleNamespace(request_id_header="")),
        "ids": front(hub, SimpleNamespace()),
    }
    with tempfile.TemporaryDirectory(prefix="wsgihub-accesslog-") as workdir:
        target = os.path.join(workdir, "access.log")
        handler = configure_access_log(target)
        apps["log"] = front(hub, SimpleNamespace(access_log=target, log_format=args.log_format))
        evict = (lambda: None) if args.hot else Evictor()
        for app in apps.values():  # warm-up: imports, first-request work
            for _ in range(200):
                one_request(app)
        handler.flush()
        cpu: dict[str, list[float]] = {name: [] for name in apps}
        writer = {name: 0.0 for name in apps}
        for i in range(args.requests):
            for name, app in apps.items():
                evict()
                cpu[name].append(one_request(app))
                if name == "log" and i % 200 == 199:
                    evict()
                    started = time.process_time()
                    handler.flush()  # the writer thread's batch, timed here
                    writer[name] += time.process_time() - started
        handler.flush()
        with open(target, encoding="utf-8") as written:
            lines = sum(1 for _ in written)
    base = statistics.median(cpu["off"]) * 1e6
    mode = "hot loop" if args.hot else "caches emptied between requests"
    print(
        f"{args.requests} requests per setup, interleaved, {mode}, {args.log_format} lines; "
        "CPU µs per request (process_time)"
    )
    print(f"{'setup':6} {'median':>8} {'+ writer':>9} {'vs off':>8}")
    for name, values in cpu.items():
        median = statistics.median(values) * 1e6
        total = median + writer[name] / args.requests * 1e6
        print(f"{name:6} {median:8.1f} {total:9.1f} {total - base:+8.1f}")
    print(f"({lines} access-log lines written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
