"""HTTP throughput over loopback: what does serving through the hub cost?

Measures requests per second with ``wrk`` (fixed duration and connections,
same machine, same run) for:

(a)       waitress serving one Flask app alone (``waitress-serve``)
(b)       ``wsgihub serve`` with Django, Flask and Pyramid mounted, hitting the
          same Flask route (``/new/hello``)
(c-alone) gunicorn, 2 sync workers, serving the Flask app alone
(c)       ``wsgihub serve --workers 2``: gunicorn, 2 sync workers, serving the hub

and prints a markdown table with the ratios (b)/(a) and (c)/(c-alone); the
goal is >= 0.95.  What the access log and request IDs cost (issue 11), in
the same run:

(b-off)   ``wsgihub serve`` as (b) with ``--request-id-header ''``: neither on
(b-log)   as (b) with ``--access-log FILE`` (text lines to a file on disk) and
          request IDs (on by default)
(c-off), (c-log)  the same two under gunicorn, as (c)

with the ratios (b-log)/(b-off) and (c-log)/(c-off); the goal is >= 0.97.
The hub under an ASGI server (issue 12), in the same run:

(d-alone) uvicorn serving a FastAPI app alone
(d)       ``wsgihub serve --server uvicorn``, the hub + that FastAPI app at ``/fast``:
          the same FastAPI route (goal (d)/(d-alone) >= 0.95)
(d-off)   as (d) with request IDs off (``--request-id-header ''``): uvicorn alone
          makes none, so (d-off)/(d-alone) is the hub's own cost
(d-alone-root) as (d-alone) with ``root_path='/fast'`` (``--root-path``): the app gets
          the scope the hub gives it (``path`` /fast/hello, ``root_path`` /fast), so
          Starlette's own cost of a prefix is in both; (d)/(d-alone) stays the goal
          (what moving the app under a prefix of the hub costs a user), (d)/(d-alone-root)
          is reported beside it: the hub's cost alone
(e-uvicorn), (e-granian)  the hub's Flask route under ``--server uvicorn`` and
          ``--server granian``, against (b) (waitress): reported
(n-...)   the hub serving Django, Flask and Pyramid against nginx (Debian's
          package) routing the same three apps by prefix to three separate
          processes, the same server for the hub and the backends, wrk's
          requests spread over the three apps in turn: requests/s, p99 latency
          and the RSS of every serving process (nginx and backends included):
          n-hub-gunicorn (``--workers 2``, one per core) vs n-proxy-gunicorn (three
          1-worker gunicorns), n-hub-waitress (one process) vs n-proxy-waitress,
          n-hub-uvicorn-workers (``--server uvicorn --workers 2``: gunicorn's
          master, one uvicorn worker per core) vs n-proxy-uvicorn (three gunicorns
          with one uvicorn worker each, every app wrapped in a2wsgi's
          WSGIMiddleware with as many threads: the same server, HTTP parser and
          WSGI bridge as the hub), n-hub-uvicorn (one process) vs
          n-proxy-uvicorn-plain (three plain one-process uvicorns, the same
          a2wsgi apps: one process against one process each), n-proxy-uvicorn
          and n-proxy-waitress, and n-hub-granian (one process) vs n-proxy-waitress.
          For these rows the server CPU per request is also split by process
          group: nginx's share (its master and workers) and the backends' (or
          the hub's); and the memory is reported as PSS (``/proc/PID/smaps_rollup``)
          beside RSS: RSS counts every page a forked gunicorn worker still shares
          with its master (or nginx's workers with theirs) once per process, PSS
          divides each shared page among the processes sharing it, so the PSS of
          all serving processes adds up to what they really hold.

Every row reports the p99 latency, the RSS and the PSS too.  The proxy rows need
nginx (``apt-get install nginx``; run as root, nginx's workers run as nobody).
``--setups b-off,b-log`` measures only some of them.  Each configuration is measured ``--rounds`` times,
interleaved, so that the noise of a shared machine spreads over all of them;
the median and the best round are reported, with the server's CPU time per
request (from ``/proc``), which other load disturbs much less.

Why (a) and (b) run 8 waitress threads: on a machine with few cores,
waitress's socket loop falls into a busy wait (its thread keeps polling a
connection whose output lock a worker thread holds, and takes the GIL from
that very thread); requests/s then collapses and CPU per request multiplies.
With 4 threads on 2 cores it happens in most rounds, to (a) and (b) alike,
and the ratio measures luck; with 8 it does not happen.

Paired mode, for a small difference between two setups (``--paired A,B``,
repeatable): both servers are started once and kept up, and wrk loads one
then the other in short back-to-back runs (``--pairs`` pairs of
``--duration`` seconds, default 20 pairs of 2 s; the order flips every
pair).  The ratio is taken within each pair, so whatever else the machine
does falls on both sides of it nearly alike, and the report gives the
median, the interquartile range and the extremes of the pairs' ratios of
requests/s (B/A) and of server CPU per request (A/B), with both medians in
µs.  3% shows as B/A >= 0.97; a spread (IQR) wider than the difference
sought says the run cannot tell.  Any two setups pair: ``b-off,b-log`` and
``c-off,c-log`` (issue 11), ``d-alone,d`` (issue 12) ...

Run from the repository root::

    python benchmarks/http.py                      # 3 rounds of 5 s, 16 connections
    python benchmarks/http.py --duration 10 --rounds 5
    python benchmarks/http.py --paired b-off,b-log --paired c-off,c-log   # 20 pairs of 2 s each
    python benchmarks/http.py --paired d-alone,d --pairs 30 --duration 3

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install wrk``; macOS: ``brew install wrk``).
The apps are in ``benchmarks/bench_apps.py``.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's ``http`` package: never let
# its directory shadow it (Python puts the script's directory first on sys.path).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse
import math
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

ROOT = os.path.dirname(_HERE)
BIN = os.path.dirname(sys.executable)
#: waitress threads, in (a) and (b) alike.  Not waitress's default 4: with 4
#: or fewer threads on a 2-core machine waitress's socket loop keeps falling
#: into its busy wait (see above) and both setups measure that instead.
THREADS = 8
WORKERS = 2

#: (a): plain ``waitress.serve``, logging set up as ``wsgihub serve`` does it
#: (warnings to stderr, waitress's "Task queue depth" chatter off), so that
#: both spend the same on logging.
WAITRESS_ALONE = """
import logging, waitress
logging.basicConfig(level=logging.WARNING)
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
from benchmarks.bench_apps import flask_app
waitress.serve(flask_app, listen="{listen}", threads={threads})
"""


@dataclass(frozen=True)
class Setup:
    """One server configuration: how to start it and which path to hit."""

    key: str
    label: str
    argv: tuple[str, ...]
    path: str
    #: Processes started (and waited for: ``(port, path)`` answering 200) before ``argv``:
    #: the backends of a proxy setup.
    backends: tuple[tuple[tuple[str, ...], int, str], ...] = ()
    #: Paths wrk spreads its requests over, in turn (default: ``path`` only).
    paths: tuple[str, ...] = ()


def setups(port: int, access_log: str = os.devnull, workdir: str = "") -> list[Setup]:
    """Every setup on ``port``; the ``-log`` ones write their access log to ``access_log``.

    ``workdir``: where the proxy setups write nginx's configuration and files.
    """
    host = "127.0.0.1"
    wsgihub_cmd = (
        sys.executable,
        "-c",
        "import sys; from wsgihub.cli import main; sys.exit(main())",
    )
    return [
        Setup(
            "a",
            "(a) waitress, Flask app alone",
            (sys.executable, "-c", WAITRESS_ALONE.format(listen=f"{host}:{port}", threads=THREADS)),
            "/hello",
        ),
        Setup(
            "b",
            "(b) wsgihub serve (waitress), Django + Flask + Pyramid",
            (
                *wsgihub_cmd,
                "serve",
                "benchmarks.bench_apps:make_hub",
                "--host",
                host,
                "--port",
                str(port),
                "--threads",
                str(THREADS),
                "-q",
            ),
            "/new/hello",
        ),
        *(
            Setup(
                f"b-{variant}",
                f"(b-{variant}) wsgihub serve (waitress), {label}",
                (
                    *wsgihub_cmd,
                    "serve",
                    "benchmarks.bench_apps:make_hub",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--threads",
                    str(THREADS),
                    "-q",
                    *extra,
                ),
                "/new/hello",
            )
            for variant, label, extra in _log_variants(access_log)
        ),
        Setup(
            "c-alone",
            f"(c-alone) gunicorn {WORKERS} workers, Flask app alone",
            (
                os.path.join(BIN, "gunicorn"),
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(WORKERS),
                "--log-level",
                "warning",
                "--no-control-socket",
                "benchmarks.bench_apps:flask_app",
            ),
            "/hello",
        ),
        Setup(
            "c",
            f"(c) wsgihub serve --workers {WORKERS} (gunicorn), the hub",
            (
                *wsgihub_cmd,
                "serve",
                "benchmarks.bench_apps:make_hub",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
                "-q",
            ),
            "/new/hello",
        ),
        *(
            Setup(
                f"c-{variant}",
                f"(c-{variant}) wsgihub serve --workers {WORKERS} (gunicorn), {label}",
                (
                    *wsgihub_cmd,
                    "serve",
                    "benchmarks.bench_apps:make_hub",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--workers",
                    str(WORKERS),
                    "-q",
                    *extra,
                ),
                "/new/hello",
            )
            for variant, label, extra in _log_variants(access_log)
        ),
        *asgi_setups(host, port, wsgihub_cmd),
        *proxy_setups(host, port, wsgihub_cmd, workdir),
    ]


#: The three apps' routes as the hub and the nginx setup serve them.
SITE_PATHS = ("/hello/", "/new/hello", "/api/hello")


def asgi_setups(host: str, port: int, wsgihub_cmd: tuple[str, ...]) -> list[Setup]:
    """Issue 12: FastAPI alone and through the hub under uvicorn; the Flask route under uvicorn, granian."""
    uvicorn_alone = (
        "import uvicorn, logging; logging.basicConfig(level=logging.WARNING); "
        "uvicorn.run('benchmarks.bench_asgi:fastapi_app', host={host!r}, port={port}, "
        "log_level='warning', access_log=False, server_header=False)"
    )
    hub_on = [*wsgihub_cmd, "serve", "benchmarks.bench_asgi:make_asgi_hub", "--host", host, "--port", str(port)]
    return [
        Setup(
            "d-alone",
            "(d-alone) uvicorn, FastAPI app alone",
            (sys.executable, "-c", uvicorn_alone.format(host=host, port=port)),
            "/hello",
        ),
        Setup(
            "d-alone-root",
            "(d-alone-root) uvicorn --root-path /fast, FastAPI app alone (the hub's scope)",
            (sys.executable, "-c", uvicorn_alone.replace("server_header=False", "server_header=False, root_path='/fast'").format(host=host, port=port)),
            "/hello",
        ),
        Setup(
            "d",
            "(d) wsgihub serve --server uvicorn, the hub + FastAPI: the FastAPI route",
            (*hub_on, "--server", "uvicorn", "--threads", str(THREADS), "-q"),
            "/fast/hello",
        ),
        Setup(
            "d-off",
            "(d-off) as (d) with request IDs off (--request-id-header ''), as uvicorn alone",
            (*hub_on, "--server", "uvicorn", "--threads", str(THREADS), "-q", "--request-id-header", ""),
            "/fast/hello",
        ),
        Setup(
            "e-uvicorn",
            "(e-uvicorn) wsgihub serve --server uvicorn, the hub: the Flask route",
            (*hub_on, "--server", "uvicorn", "--threads", str(THREADS), "-q"),
            "/new/hello",
        ),
        Setup(
            "e-granian",
            "(e-granian) wsgihub serve --server granian, the hub: the Flask route",
            (*hub_on, "--server", "granian", "--threads", str(THREADS), "-q"),
            "/new/hello",
        ),
    ]


#: nginx in front of three backends, routing by prefix (``{ports}`` filled in per run).
NGINX_CONF = """
worker_processes {workers};
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    upstream django {{ server 127.0.0.1:{django}; keepalive 16; }}
    upstream flask {{ server 127.0.0.1:{flask}; keepalive 16; }}
    upstream pyramid {{ server 127.0.0.1:{pyramid}; keepalive 16; }}
    server {{
        listen {host}:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        location /new/ {{ proxy_pass http://flask/; }}
        location /api/ {{ proxy_pass http://pyramid/; }}
        location / {{ proxy_pass http://django; }}
    }}
}}
"""


def proxy_setups(host: str, port: int, wsgihub_cmd: tuple[str, ...], workdir: str) -> list[Setup]:
    """Issue 12: the hub serving Django, Flask and Pyramid vs nginx routing them to three processes.

    Like for like: the same server for the hub and the backends; requests
    spread over the three apps' routes in turn.  ``n-hub-gunicorn`` is one hub
    worker per core; ``n-hub-waitress`` one hub process.
    """
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    apps = ("django", "flask", "pyramid")
    ports = {app: free_port() for app in apps}
    ready = {"django": "/hello/", "flask": "/hello", "pyramid": "/hello"}
    conf = os.path.join(workdir, f"nginx-{port}.conf")
    if port and workdir:  # (setups(0) only lists the setups: nothing to write)
        with open(conf, "w", encoding="ascii") as out:
            out.write(NGINX_CONF.format(workers=2, dir=workdir, host=host, port=port, **ports))
    nginx_argv = (nginx, "-p", workdir, "-c", conf, "-g", "daemon off;")
    hub = [*wsgihub_cmd, "serve", "benchmarks.bench_apps:make_hub", "--host", host, "--port", str(port), "-q"]

    def gunicorn(app: str) -> tuple[str, ...]:
        return (
            os.path.join(BIN, "gunicorn"), "--bind", f"127.0.0.1:{ports[app]}", "--workers", "1",
            "--log-level", "warning", "--no-control-socket", f"benchmarks.bench_backends:{app}()",
        )

    def uvicorn(app: str) -> tuple[str, ...]:
        return (
            os.path.join(BIN, "gunicorn"), "--bind", f"127.0.0.1:{ports[app]}", "--workers", "1",
            "--worker-class", "uvicorn_worker.UvicornWorker",
            "--log-level", "warning", "--no-control-socket", f"benchmarks.bench_backends:asgi({app!r}, {THREADS})",
        )

    def plain_uvicorn(app: str) -> tuple[str, ...]:
        code = (
            "import logging, uvicorn; logging.basicConfig(level=logging.WARNING); "
            "from benchmarks.bench_backends import asgi; "
            f"uvicorn.run(asgi({app!r}, {THREADS}), host='127.0.0.1', port={ports[app]}, "
            "log_level='warning', access_log=False, server_header=False)"
        )
        return (sys.executable, "-c", code)

    def waitress(app: str) -> tuple[str, ...]:
        return (
            os.path.join(BIN, "waitress-serve"), f"--listen=127.0.0.1:{ports[app]}", f"--threads={THREADS}",
            "--call", f"benchmarks.bench_backends:{app}",
        )

    return [
        Setup(
            "n-hub-gunicorn",
            f"(n-hub-gunicorn) wsgihub serve --workers {WORKERS}: Django + Flask + Pyramid",
            (*hub, "--workers", str(WORKERS)),
            SITE_PATHS[0],
            paths=SITE_PATHS,
        ),
        Setup(
            "n-proxy-gunicorn",
            "(n-proxy-gunicorn) nginx -> 3 gunicorn backends (1 worker each)",
            nginx_argv,
            SITE_PATHS[0],
            backends=tuple((gunicorn(app), ports[app], ready[app]) for app in apps),
            paths=SITE_PATHS,
        ),
        Setup(
            "n-hub-waitress",
            f"(n-hub-waitress) wsgihub serve (waitress, {THREADS} threads): Django + Flask + Pyramid",
            (*hub, "--threads", str(THREADS)),
            SITE_PATHS[0],
            paths=SITE_PATHS,
        ),
        Setup(
            "n-proxy-waitress",
            f"(n-proxy-waitress) nginx -> 3 waitress backends ({THREADS} threads each)",
            nginx_argv,
            SITE_PATHS[0],
            backends=tuple((waitress(app), ports[app], ready[app]) for app in apps),
            paths=SITE_PATHS,
        ),
        Setup(
            "n-hub-uvicorn",
            f"(n-hub-uvicorn) wsgihub serve --server uvicorn ({THREADS} threads): Django + Flask + Pyramid",
            (*hub, "--server", "uvicorn", "--threads", str(THREADS)),
            SITE_PATHS[0],
            paths=SITE_PATHS,
        ),
        Setup(
            "n-hub-uvicorn-workers",
            f"(n-hub-uvicorn-workers) wsgihub serve --server uvicorn --workers {WORKERS} "
            f"({THREADS} threads each): Django + Flask + Pyramid",
            (*hub, "--server", "uvicorn", "--workers", str(WORKERS), "--threads", str(THREADS)),
            SITE_PATHS[0],
            paths=SITE_PATHS,
        ),
        Setup(
            "n-proxy-uvicorn",
            f"(n-proxy-uvicorn) nginx -> 3 gunicorn backends (1 uvicorn worker each, a2wsgi, {THREADS} threads)",
            nginx_argv,
            SITE_PATHS[0],
            backends=tuple((uvicorn(app), ports[app], ready[app]) for app in apps),
            paths=SITE_PATHS,
        ),
        Setup(
            "n-proxy-uvicorn-plain",
            f"(n-proxy-uvicorn-plain) nginx -> 3 uvicorn processes (no gunicorn master; a2wsgi, {THREADS} threads)",
            nginx_argv,
            SITE_PATHS[0],
            backends=tuple((plain_uvicorn(app), ports[app], ready[app]) for app in apps),
            paths=SITE_PATHS,
        ),
        Setup(
            "n-hub-granian",
            f"(n-hub-granian) wsgihub serve --server granian ({THREADS} threads): Django + Flask + Pyramid",
            (*hub, "--server", "granian", "--threads", str(THREADS)),
            SITE_PATHS[0],
            paths=SITE_PATHS,
        ),
    ]


def _log_variants(access_log: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(variant, label, extra arguments)``: request IDs and access log off, then both on."""
    return [
        ("off", "no request IDs, no access log", ("--request-id-header", "")),
        ("log", "request IDs + access log to a file", ("--access-log", access_log)),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str, timeout: float = 30.0) -> None:
    """Poll until ``GET path`` answers 200 (raw socket: no ``http`` import here)."""
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(request)
                head = sock.recv(64)
            if head.startswith(b"HTTP/1.") and b" 200 " in head:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer 200 on {path} within {timeout} s")


@dataclass(frozen=True)
class Result:
    """One measurement: throughput, and the server's CPU time per request."""

    rps: float
    #: CPU seconds (user + system) the server's processes used per request, in
    #: microseconds; ``nan`` where ``/proc`` is not available.  Much less
    #: sensitive than ``rps`` to other load on a shared machine.
    cpu_us: float
    #: wrk's 99th percentile latency, milliseconds.
    p99_ms: float = float("nan")
    #: Resident memory of every serving process (backends and nginx included) after the run, MiB.
    rss_mib: float = float("nan")
    #: Proportional set size of the same processes (shared pages divided among them), MiB.
    pss_mib: float = float("nan")
    #: Of ``cpu_us``: nginx's processes (a proxy setup; ``nan`` for the others), microseconds.
    nginx_cpu_us: float = float("nan")

    @property
    def app_cpu_us(self) -> float:
        """Of ``cpu_us``: the processes running the apps (the hub's, or the backends')."""
        return self.cpu_us - (0.0 if math.isnan(self.nginx_cpu_us) else self.nginx_cpu_us)


#: wrk script spreading requests over several paths in turn (``{paths}``: a Lua list).
WRK_PATHS = """
local paths = {paths}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def run_wrk(
    port: int, path: str, duration: int, connections: int, threads: int, script: str | None = None
) -> tuple[float, int, float]:
    """``(requests/s, requests, p99 ms)`` of one ``wrk`` run; fails on any non-2xx or socket error."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            *(("-s", script) if script else ()),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and any(int(n) for n in errors.groups()[:1] + errors.groups()[2:]):
        raise RuntimeError(f"wrk saw socket errors:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    return float(rps.group(1)), int(total.group(1)), p99_ms


def sessions_rss(sessions: Sequence[int]) -> float:
    """Resident memory (MiB) of every live process in ``sessions`` (Linux ``/proc``)."""
    return sessions_memory(sessions)[0]


def sessions_memory(sessions: Sequence[int]) -> tuple[float, float]:
    """``(RSS, PSS)`` in MiB, summed over every live process in ``sessions`` (Linux ``/proc``).

    RSS counts a page shared by several processes (a gunicorn master and its
    forked workers, nginx's master and workers) in each of them; PSS divides
    it among them, so summed PSS is the memory the processes really hold.
    PSS is ``nan`` where ``smaps_rollup`` cannot be read (Linux < 4.14, or
    another user's process when not root).
    """
    rss = pss = 0
    pss_known = True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[3]) not in sessions:
                continue
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
        try:
            with open(f"/proc/{entry}/smaps_rollup", encoding="ascii", errors="replace") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            pss_known = False
    return rss / 1024, (pss / 1024 if pss_known else float("nan"))


def session_cpu(session: int) -> float:
    """CPU seconds used so far by the live processes of ``session`` (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after "pid (comm)": state ppid pgrp session ... utime(12th) stime(13th)
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass
class Running:
    """A setup started by :func:`start`: its processes, port and wrk script, until :func:`stop`."""

    setup: Setup
    port: int
    #: ``procs[0]``: the hub, or nginx in front of the backends (``procs[1:]``).
    procs: list[subprocess.Popen[bytes]]
    script: str | None
    workdir: str
    #: Whether ``workdir`` is this setup's own (removed by :func:`stop`).
    own_workdir: bool
    #: The processes' stderr (shown when the setup fails to start or wrk sees errors).
    log: IO[str]


def start(key: str, access_log: str = os.devnull, workdir: str = "") -> Running:
    """Start setup ``key`` (its backends first) on a free port and wait until it answers 200.

    ``workdir``: where nginx's configuration and wrk's script go (default: a
    temporary directory of this setup's own, removed by :func:`stop`).  Two
    setups up at once need a ``workdir`` each (nginx's pid file is there).
    """
    own_workdir = not workdir
    if own_workdir:
        workdir = tempfile.mkdtemp(prefix="wsgihub-bench-")
        os.chmod(workdir, 0o755)  # nginx's workers (user nobody under root) must enter it
    port = free_port()
    setup = {s.key: s for s in setups(port, access_log, workdir)}[key]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    )
    script = None
    if setup.paths:
        script = os.path.join(workdir, f"paths-{port}.lua")
        with open(script, "w", encoding="ascii") as out:
            out.write(WRK_PATHS.format(paths="{" + ", ".join(f'"{p}"' for p in setup.paths) + "}"))
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop()
    running = Running(setup, port, [], script, workdir, own_workdir, log)
    try:
        for argv, ready_port, ready_path in setup.backends:
            running.procs.append(
                subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
            )
            wait_ready(ready_port, ready_path)
        proc = subprocess.Popen(
            setup.argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
        running.procs.insert(0, proc)
        try:
            wait_ready(port, setup.path)
        except RuntimeError:
            log.seek(0)
            raise RuntimeError(f"{setup.label} did not start:\n{log.read()[-2000:]}") from None
    except BaseException:
        stop(running)
        raise
    return running


def sample(running: Running, duration: int, connections: int, wrk_threads: int) -> Result:
    """One wrk run of ``duration`` seconds against a started setup, with its CPU per request."""
    sessions = [p.pid for p in running.procs]
    proc_fs = os.path.isdir("/proc/self")
    before = [session_cpu(s) for s in sessions] if proc_fs else []
    try:
        rps, requests, p99 = run_wrk(running.port, running.setup.path, duration, connections, wrk_threads, running.script)
    except (RuntimeError, subprocess.CalledProcessError) as error:  # which setup, what its processes said
        running.log.seek(0)
        said = running.log.read()[-2000:]
        raise RuntimeError(f"{running.setup.label}: {error}\nits processes' stderr (the end):\n{said}") from None
    if not proc_fs:
        return Result(rps, float("nan"), p99)
    used = [session_cpu(s) - b for s, b in zip(sessions, before, strict=True)]
    rss, pss = sessions_memory(sessions)
    nginx = used[0] / requests * 1e6 if running.setup.backends else float("nan")
    return Result(rps, sum(used) / requests * 1e6, p99, rss, pss, nginx)


def stop_procs(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process (each its own session), SIGKILL a group still there after 20 s."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def stop(running: Running) -> None:
    """SIGTERM every process of a started setup (SIGKILL its group after 20 s), remove its files."""
    try:
        stop_procs(running.procs)
    finally:
        running.log.close()
        if running.own_workdir:
            shutil.rmtree(running.workdir, ignore_errors=True)


def measure(
    key: str,
    duration: int,
    connections: int,
    wrk_threads: int,
    access_log: str = os.devnull,
    workdir: str = "",
) -> Result:
    """Start setup ``key`` (its backends first) on a free port, warm it up, measure it, stop it.

    ``workdir``: where nginx's configuration and wrk's script go (default: a
    temporary directory of this measurement's own).
    """
    running = start(key, access_log, workdir)
    try:
        run_wrk(running.port, running.setup.path, 1, connections, wrk_threads, running.script)  # warm-up
        return sample(running, duration, connections, wrk_threads)
    finally:
        stop(running)


@dataclass(frozen=True)
class Paired:
    """``--paired BASE,OTHER``: both setups' results, round by round, in interleaved pairs."""

    base: str
    other: str
    #: ``(base's result, other's result)`` of each pair of runs.
    pairs: tuple[tuple[Result, Result], ...]


def measure_paired(
    base: str,
    other: str,
    pairs: int,
    duration: int,
    connections: int,
    wrk_threads: int,
    access_log: str,
    workdir: str,
) -> Paired:
    """Start both setups once, then load one and the other in turn, ``pairs`` times.

    Each pair is two back-to-back wrk runs of ``duration`` seconds; the order
    flips every pair (base first, then other first), so neither always runs
    right after the other or always in its wake.  Whatever else the machine
    does falls on both runs of a pair almost alike: the ratio of a pair is
    far steadier than the ratio of two separate medians.
    """
    dirs = [os.path.join(workdir, f"paired-{name}-{i}") for i, name in enumerate((base, other))]
    for folder in dirs:
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o755)
    running: list[Running] = []
    try:
        running.append(start(base, access_log, dirs[0]))
        running.append(start(other, access_log, dirs[1]))
        for each in running:  # warm-up
            run_wrk(each.port, each.setup.path, 1, connections, wrk_threads, each.script)
        results: list[tuple[Result, Result]] = []
        for number in range(pairs):
            order = (0, 1) if number % 2 == 0 else (1, 0)
            got: dict[int, Result] = {}
            for index in order:
                got[index] = sample(running[index], duration, connections, wrk_threads)
            results.append((got[0], got[1]))
            print(
                f"pair {number + 1}: {base} {got[0].rps:.0f} req/s {got[0].cpu_us:.0f} µs, "
                f"{other} {got[1].rps:.0f} req/s {got[1].cpu_us:.0f} µs: "
                f"requests/s {got[1].rps / got[0].rps:.3f}, CPU/request {got[0].cpu_us / got[1].cpu_us:.3f}",
                file=sys.stderr,
                flush=True,
            )
        return Paired(base, other, tuple(results))
    finally:
        for each in running:
            stop(each)


def _spread(values: Sequence[float]) -> tuple[float, float, float]:
    """``(median, first quartile, third quartile)`` of ``values``."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3


def paired_table(paired: Sequence[Paired], duration: int, connections: int) -> str:
    """The markdown report of ``--paired``: per pair of setups, the ratios' median and spread."""
    lines = [
        (
            f"wrk, paired runs of {duration} s (order flipped every pair), {connections} connections, "
            f"loopback, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        ),
        "",
        (
            "| B vs A | pairs | requests/s B/A, median | IQR | min - max "
            "| CPU/request A/B, median | IQR | min - max | CPU µs/request A -> B (medians) | B - A, median |"
        ),
        "|---|---:|---:|---|---|---:|---|---|---|---:|",
    ]
    for one in paired:
        rps = [b.rps / a.rps for a, b in one.pairs]
        cpu = [a.cpu_us / b.cpu_us for a, b in one.pairs]
        extra = [b.cpu_us - a.cpu_us for a, b in one.pairs]
        rps_mid, rps_q1, rps_q3 = _spread(rps)
        cpu_mid, cpu_q1, cpu_q3 = _spread(cpu)
        base_cpu = statistics.median(a.cpu_us for a, _ in one.pairs)
        other_cpu = statistics.median(b.cpu_us for _, b in one.pairs)
        lines.append(
            f"| ({one.other}) vs ({one.base}) | {len(one.pairs)} | {rps_mid:.3f} | {rps_q1:.3f} - {rps_q3:.3f} "
            f"| {min(rps):.3f} - {max(rps):.3f} | {cpu_mid:.3f} | {cpu_q1:.3f} - {cpu_q3:.3f} "
            f"| {min(cpu):.3f} - {max(cpu):.3f} | {base_cpu:.0f} -> {other_cpu:.0f} | {statistics.median(extra):+.1f} |"
        )
    lines += [
        "",
        "Each ratio is taken within a pair (two back-to-back runs), then the median and the",
        "interquartile range of the pairs' ratios are given: B costs at most 3% when",
        "requests/s B/A (and CPU/request A/B) is >= 0.97.",
    ]
    return "\n".join(lines)


def table(
    results: dict[str, list[Result]], labels: dict[str, str], duration: int, connections: int
) -> str:
    """The markdown report: per setup, then the two ratios (median and best round)."""
    rps = {key: statistics.median(r.rps for r in values) for key, values in results.items()}
    best = {key: max(r.rps for r in values) for key, values in results.items()}
    cpu = {key: statistics.median(r.cpu_us for r in values) for key, values in results.items()}
    p99 = {key: statistics.median(r.p99_ms for r in values) for key, values in results.items()}
    rss = {key: statistics.median(r.rss_mib for r in values) for key, values in results.items()}
    pss = {key: statistics.median(r.pss_mib for r in values) for key, values in results.items()}
    nginx = {key: statistics.median(r.nginx_cpu_us for r in values) for key, values in results.items()}
    rounds = len(next(iter(results.values())))
    lines = [
        (
            f"wrk, {duration} s x {rounds} rounds (interleaved), {connections} connections, "
            f"loopback, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        ),
        "",
        (
            "| setup | requests/s (median) | best round | server CPU µs/request (median) "
            "| of it nginx | p99 ms (median) | RSS MiB (median) | PSS MiB (median) | requests/s, each round |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, values in results.items():
        each = ", ".join(f"{r.rps:.0f}" for r in values)
        lines.append(
            f"| {labels[key]} | {rps[key]:.0f} | {best[key]:.0f} | {cpu[key]:.0f} | {_num(nginx[key])} "
            f"| {p99[key]:.1f} | {rss[key]:.0f} | {_num(pss[key])} | {each} |"
        )
    alone_pairs = [
        (hub, alone) for hub, alone in (("b", "a"), ("c", "c-alone"), ("d", "d-alone"), ("d-off", "d-alone"), ("d", "d-alone-root"), ("d-off", "d-alone-root")) if hub in results and alone in results
    ]
    if alone_pairs:
        lines += [
            "",
            (
                "| ratio (goal >= 0.95) | requests/s, medians | requests/s, best rounds "
                "| CPU/request, alone / hub |"
            ),
            "|---|---:|---:|---:|",
        ]
    for hub, alone in alone_pairs:
        lines.append(
            f"| ({hub})/({alone}) | {rps[hub] / rps[alone]:.3f} | {best[hub] / best[alone]:.3f} "
            f"| {cpu[alone] / cpu[hub]:.3f} |"
        )
    pairs = [(on, off) for on, off in (("b-log", "b-off"), ("c-log", "c-off")) if on in results and off in results]
    if pairs:
        lines += [
            "",
            (
                "| access log + request IDs (goal >= 0.97) | requests/s, medians "
                "| requests/s, best rounds | CPU/request, off / on |"
            ),
            "|---|---:|---:|---:|",
        ]
        for on, off in pairs:
            lines.append(
                f"| ({on})/({off}) | {rps[on] / rps[off]:.3f} | {best[on] / best[off]:.3f} "
                f"| {cpu[off] / cpu[on]:.3f} |"
            )
    servers = [(key, "b") for key in ("e-uvicorn", "e-granian") if key in results and "b" in results]
    if servers:
        lines += [
            "",
            "| the Flask route under another server (report) | requests/s, medians | best rounds | CPU/request, waitress / it |",
            "|---|---:|---:|---:|",
        ]
        for key, base in servers:
            lines.append(
                f"| ({key})/({base}) | {rps[key] / rps[base]:.3f} | {best[key] / best[base]:.3f} "
                f"| {cpu[base] / cpu[key]:.3f} |"
            )
    proxies = [
        (hub, proxy)
        for hub, proxy in (
            ("n-hub-gunicorn", "n-proxy-gunicorn"),
            ("n-hub-uvicorn-workers", "n-proxy-uvicorn"),
            ("n-hub-uvicorn-workers", "n-proxy-gunicorn"),  # the hub's best against the proxy's best
            ("n-hub-waitress", "n-proxy-waitress"),
            ("n-hub-uvicorn", "n-proxy-uvicorn-plain"),
            ("n-hub-uvicorn", "n-proxy-uvicorn"),
            ("n-hub-uvicorn", "n-proxy-waitress"),
            ("n-hub-granian", "n-proxy-waitress"),
        )
        if hub in results and proxy in results
    ]
    if proxies:
        lines += [
            "",
            (
                "| hub vs nginx + 3 processes | requests/s (goal >= 2.0 workers, >= 1.2 one process) "
                "| p99 (goal <= 0.35) | RSS (goal <= 0.6 workers, <= 0.35 one process) | PSS "
                "| CPU/request, proxy / hub | nginx's share of the proxy's CPU |"
            ),
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for hub, proxy in proxies:
            lines.append(
                f"| ({hub})/({proxy}) | {rps[hub] / rps[proxy]:.2f} | {p99[hub] / p99[proxy]:.2f} "
                f"| {rss[hub] / rss[proxy]:.2f} | {_num(pss[hub] / pss[proxy], 2)} "
                f"| {cpu[proxy] / cpu[hub]:.2f} | {_num(nginx[proxy] / cpu[proxy], 2)} |"
            )
        lines += [
            "",
            "When both setups keep the 2 cores busy, requests/s = cores / CPU per request, so the",
            "requests/s ratio cannot pass the CPU/request ratio (proxy / hub); the proxy's extra",
            "is nginx's share plus whatever the three backends spend beyond the hub.",
        ]
    return "\n".join(lines)


def _num(value: float, digits: int = 0) -> str:
    """``value`` rounded, or ``-`` for ``nan`` (not measured, not applicable)."""
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=None, help="seconds per measurement (default 5; 2 with --paired)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per setup (default 3)")
    parser.add_argument(
        "--setups", default="", help="comma-separated setup keys to measure (default: all)"
    )
    parser.add_argument(
        "--paired",
        action="append",
        default=[],
        metavar="A,B",
        help=(
            "measure B against A in interleaved pairs of runs, both servers kept up "
            "(repeat for more pairs of setups, e.g. --paired b-off,b-log --paired c-off,c-log)"
        ),
    )
    parser.add_argument("--pairs", type=int, default=20, help="pairs of runs per --paired (default 20)")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 2 if args.paired else 5
    if args.pairs < 1 or args.duration < 1 or args.rounds < 1:
        parser.error("--pairs, --duration and --rounds take a whole number >= 1")

    if shutil.which("wrk") is None:
        print(
            "benchmarks/http.py needs wrk: apt-get install wrk (Debian/Ubuntu), "
            "brew install wrk (macOS), or build it from https://github.com/wg/wrk",
            file=sys.stderr,
        )
        return 2

    all_setups = setups(0)
    known = {s.key for s in all_setups}
    if args.paired:
        if args.setups:
            parser.error("--paired and --setups: give one or the other")
        couples = []
        for given in args.paired:
            couple = given.split(",")
            if len(couple) != 2 or couple[0] == couple[1]:
                parser.error(f"--paired {given}: expected two different setup keys, A,B (e.g. b-off,b-log)")
            unknown = sorted(set(couple) - known)
            if unknown:
                parser.error(f"--paired {given}: unknown setup(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
            couples.append((couple[0], couple[1]))
        return run_paired(couples, args.pairs, args.duration, args.connections, args.wrk_threads)
    if args.setups:
        wanted = args.setups.split(",")
        unknown = sorted(set(wanted) - {s.key for s in all_setups})
        if unknown:
            parser.error(f"unknown setup(s): {', '.join(unknown)} (known: {', '.join(s.key for s in all_setups)})")
        all_setups = [s for s in all_setups if s.key in wanted]
    labels = {s.key: s.label for s in all_setups}
    results: dict[str, list[Result]] = {s.key: [] for s in all_setups}
    # the -log setups write a real file (not /dev/null), removed at the end
    log_dir = tempfile.mkdtemp(prefix="wsgihub-bench-")
    os.chmod(log_dir, 0o755)  # nginx's workers (user nobody under root) read nothing here but must enter
    access_log = os.path.join(log_dir, "access.log")
    for round_no in range(1, args.rounds + 1):
        for setup in all_setups:
            result = measure(
                setup.key, args.duration, args.connections, args.wrk_threads, access_log, log_dir
            )
            results[setup.key].append(result)
            print(
                f"round {round_no}: {setup.label}: {result.rps:.0f} req/s, "
                f"{result.cpu_us:.0f} µs CPU/request",
                file=sys.stderr,
                flush=True,
            )
    shutil.rmtree(log_dir, ignore_errors=True)
    print(table(results, labels, args.duration, args.connections))
    return 0


def run_paired(couples: Sequence[tuple[str, str]], pairs: int, duration: int, connections: int, wrk_threads: int) -> int:
    """``--paired``: measure each couple of setups in interleaved pairs, print :func:`paired_table`."""
    log_dir = tempfile.mkdtemp(prefix="wsgihub-bench-")
    os.chmod(log_dir, 0o755)
    try:
        access_log = os.path.join(log_dir, "access.log")
        done = [
            measure_paired(base, other, pairs, duration, connections, wrk_threads, access_log, log_dir)
            for base, other in couples
        ]
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    print(paired_table(done, duration, connections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
