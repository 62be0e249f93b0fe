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

``--callgrind`` measures what no in-process loop can: the whole server.
``wsgihub serve`` (waitress, one thread) runs under valgrind's callgrind
for each setup, and the CPU instructions of the whole process per request
(the writer thread and waitress's own code included) are counted over
``--requests`` requests sent one after the other, after a warm-up: the
same figure on a loaded machine as on a quiet one (needs ``valgrind``;
a few minutes).  With the access log, the lines are written as a real
server writes them: the writer thread waits, and after the requests a
thread of its own formats and writes all ``--requests`` lines in one batch
(under valgrind the writer's once-a-second batches hold ~50 times fewer
lines than in a server at ~1,000 requests a second, and a line costs more
in a small batch); its instructions per line are the ``flush`` column,
counted apart from the request's threads and added to the total.  Its setups:

off         ``--request-id-header ''``: neither
ids         request IDs (the default), done by waitress's own task
log         request IDs + ``--access-log FILE``, done by waitress's own task
ids-layers  request IDs as a WSGI layer (``wsgihub.servers.waitress_front.ENABLED``
            set to ``False``: what a waitress that module does not know gets)
log-layers  request IDs + the access log as a WSGI layer
log-python  log, with ``wsgihub.accesslines`` imported as Python even where it is
            compiled (``WSGIHUB_COMPILE=1 pip install -e .``): what compiling takes off

The server runs without address randomization where ``setarch`` can
(two runs of one setup then agree within ~200 instructions a request).  What
still moves a setup's count, by several thousand instructions a request, is
which attribute lookups miss the type cache (a lottery any change of code
deals anew) and the threads' timing: ``--layouts N`` runs each setup in N
memory layouts and reports the medians, the figures to compare.

``--opcodes`` runs the same server without valgrind and counts the Python
bytecodes waitress's threads and the writer run per request, by function
(a tracer: seconds, not minutes, and counts that do not move with timing),
printing which functions each setup adds over the one before.

The in-process setups (without ``--callgrind``) are always the layers:
the task needs a real waitress.

Run from the repository root::

    python benchmarks/accesslog.py                  # 600 requests per setup, caches emptied
    python benchmarks/accesslog.py --hot --requests 20000 --log-format json
    python benchmarks/accesslog.py --callgrind --requests 1000
    python benchmarks/accesslog.py --callgrind --setups off,log,log-layers
    python benchmarks/accesslog.py --opcodes --requests 300 --setups off,ids,log
    python benchmarks/accesslog.py --callgrind --setups off,ids,log --layouts 4
    python benchmarks/accesslog.py --callgrind --server gunicorn --setups off,ids,log --layouts 2

``--server gunicorn`` counts one sync worker of ``wsgihub serve --workers 1``
instead (every thread of it; gunicorn runs the WSGI layers), each request
on a connection of its own as the sync worker serves them.
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
import contextlib
import io
import json
import random
import shutil
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


# -- --callgrind: the whole server process, instructions per request ----------------------------
#: ``wsgihub serve`` arguments of each variant (``{log}``: the access log's file).
SERVE_VARIANTS = {
    "off": ["--request-id-header", ""],
    "ids": [],
    "log": ["--access-log", "{log}"],
    "ids-layers": [],
    "log-layers": ["--access-log", "{log}"],
    "log-python": ["--access-log", "{log}"],
}

#: What the server process runs: ``wsgihub serve``; ``*-layers`` with waitress's task switched off.
_SERVE = "import sys; from wsgihub.cli import main; sys.exit(main())"
_SERVE_LAYERS = "import wsgihub.servers.waitress_front as f; f.ENABLED = False; " + _SERVE
#: ``log-python``: ``wsgihub/accesslines.py`` imported as Python even where a compiled one is there
#: (what compiling it takes off: the same code, the same run).
_ACCESSLINES_AS_PYTHON = (
    "import importlib.util as _u, sys as _s, wsgihub.requestid; "
    "_p = _u.spec_from_file_location('wsgihub.accesslines', 'wsgihub/accesslines.py'); "
    "_s.modules[_p.name] = _u.module_from_spec(_p); _p.loader.exec_module(_s.modules[_p.name]); "
)
#: With the access log: the writer thread waits (a flush interval of a day) and SIGUSR2 makes a
#: thread of its own, ``final flush``, write what is queued, so that the lines of the measured
#: requests are formatted in one batch of ``--requests`` lines (a real server's batch at ~1,000
#: requests a second; under valgrind the writer's once-a-second batches are ~50 times smaller)
#: and counted apart from the request's threads.
_FLUSH_ON_SIGNAL = (
    "import logging, signal, threading, wsgihub.logconfig as c; c.FILE_FLUSH_INTERVAL = 86400.0; "
    "signal.signal(signal.SIGUSR2, lambda *_: threading.Thread(name='final flush', target=lambda: "
    "[h.flush() for h in logging.getLogger('wsgihub.access').handlers]).start()); "
)


#: The server without address-space randomization where ``setarch`` can (util-linux): the
#: addresses decide hashes (a context variable's, so the shape of the context's tree), where
#: objects land and when the garbage collector runs; randomized, two runs of the same code
#: differ by up to ~2,000 instructions a request.
_NO_ASLR = ["setarch", os.uname().machine, "-R"] if shutil.which("setarch") else []


def _lines(path: str) -> int:
    """How many lines the access log holds so far."""
    try:
        with open(path, "rb") as written:
            return written.read().count(b"\n")
    except FileNotFoundError:
        return 0


def _wait_for_lines(path: str, expected: int) -> None:
    """Wait until the access log holds ``expected`` lines (the writer's batches, once a second)."""
    deadline = time.monotonic() + 300
    while _lines(path) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the access log holds {_lines(path)} lines, not {expected}")
        time.sleep(0.2)


#: Requests made before the measured ones (``--callgrind``).
_WARM_UP = 300


def _flushed(pid: int, path: str, made: int) -> None:
    """Make the server write its queued lines (SIGUSR2); wait for those of ``made`` requests but the last.

    Waitress closes a response's body (and the line is queued) after its bytes
    went out, so the line of the last answer read may not be queued yet: the
    file is waited on for one line fewer than the requests made.  With one
    thread, waitress runs a connection's next request only after the last one
    closed, so every earlier line is queued when the last answer is read.
    """
    import signal

    os.kill(pid, signal.SIGUSR2)
    _wait_for_lines(path, made - 1)


def _get(port: int, sock: Any) -> None:
    """One ``GET /new/hello`` on a kept-alive connection; the whole answer read."""
    sock.sendall(b"GET /new/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if b" 200 " not in head[:16]:
        raise RuntimeError(f"not a 200: {head[:80]!r}")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)


#: ``wsgihub serve`` arguments of each ``--server``: one thread, or one gunicorn sync worker.
SERVERS = {"waitress": ["--threads", "1"], "gunicorn": ["--workers", "1"]}


def _start_server(
    variant: str,
    log_format: str,
    workdir: str,
    wrapper: list[str],
    prelude: str,
    env: dict[str, str] | None = None,
    server_name: str = "waitress",
) -> Any:
    """Start ``wsgihub serve`` (waitress, 1 thread; or 1 gunicorn worker) for ``variant``; connect to it.

    ``wrapper`` goes before the interpreter (valgrind's command), ``prelude``
    is Python run before the CLI, ``env`` added to its environment.  Returns ``(process, port, socket,
    access-log file)``; the process is its own session (``os.killpg``).  Under
    gunicorn the writer keeps its once-a-second batches (a worker sets its own
    signal handlers: no ``_FLUSH_ON_SIGNAL``).
    """
    import signal
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_file = os.path.join(workdir, f"access-{variant}.log")
    extra = [arg.format(log=log_file) for arg in SERVE_VARIANTS[variant]]
    with_log = variant.startswith("log")
    if with_log:
        extra += ["--log-format", log_format]
    on_signal = _FLUSH_ON_SIGNAL if with_log and server_name == "waitress" else ""
    argv = [
        *_NO_ASLR, *wrapper, sys.executable, "-c",
        prelude + (_ACCESSLINES_AS_PYTHON if variant.endswith("-python") else "") + on_signal
        + (_SERVE_LAYERS if variant.endswith("-layers") else _SERVE),
        "serve", "benchmarks.bench_apps:make_hub", "--host", "127.0.0.1", "--port", str(port),
        *SERVERS[server_name], "-q", *extra,
    ]  # fmt: skip
    server = subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, "PYTHONHASHSEED": "0", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while True:
        try:
            return server, port, socket.create_connection(("127.0.0.1", port), timeout=120), log_file
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                os.killpg(server.pid, signal.SIGTERM)
                raise RuntimeError(f"wsgihub serve ({variant}) did not start") from None
            time.sleep(0.5)


def _measure(started: Any, requests: int, with_log: bool, start: Any, stop: Any) -> int:
    """Warm ``started`` (:func:`_start_server`'s) up, then ``start(pid)``, ``requests`` requests, ``stop(pid)``.

    With the access log the warm-up's lines are written before ``start``
    and the measured requests' after them, in one batch (see
    ``_FLUSH_ON_SIGNAL``); the server is stopped at the end.  Returns its pid.
    """
    import signal

    server, port, sock, log_file = started
    try:
        with sock:
            for _ in range(_WARM_UP):
                _get(port, sock)
            if with_log:
                _flushed(server.pid, log_file, _WARM_UP)
            time.sleep(1.5)
            start(server.pid)
            for _ in range(requests):
                _get(port, sock)
            if with_log:
                _flushed(server.pid, log_file, _WARM_UP + requests)
            time.sleep(2.5)
            stop(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    return int(server.pid)


#: ``--layouts``: Python run before the server for layout ``n`` (0: none).  It makes ``37 * n``
#: classes and looks an attribute up on each (so each takes a type version tag) and keeps
#: ``4096 * n`` bytes: every later class gets another version tag and objects land elsewhere,
#: so the type attribute cache's collisions (which lookups miss, each ~100-450 instructions)
#: fall elsewhere.  Which collide is a lottery that shifts with any change of code: one
#: layout's count of a setup can be several thousand instructions a request off its mean.
_LAYOUT = (
    "import sys as _s; _s.wsgihub_bench_layout = ([type(f'_Layout{{i}}', (), {{'x': i}}) for i in range({classes})], "
    "bytearray({pad})); [_t.x for _t in _s.wsgihub_bench_layout[0]]; "
)


def _get_closed(port: int) -> None:
    """One ``GET /new/hello`` on a connection of its own (gunicorn's sync worker closes each)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(b"GET /new/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if b" 200 " not in data[:16]:
        raise RuntimeError(f"not a 200: {data[:80]!r}")


def _callgrind(workdir: str, name: str, layout: int) -> tuple[str, list[str], str]:
    """``(folder, valgrind's command, prelude)`` for one ``--callgrind`` run of ``name`` in ``layout``.

    Children are followed (gunicorn's worker is one); the files go to the
    folder as ``cg.PID.1-THREAD`` once dumped.
    """
    out = os.path.join(workdir, name + (f"-{layout}" if layout else ""))
    os.makedirs(out, exist_ok=True)
    valgrind = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", "--trace-children=yes",
        f"--callgrind-out-file={out}/cg.%p",
    ]  # fmt: skip
    return out, valgrind, _LAYOUT.format(classes=37 * layout, pad=4096 * layout) if layout else ""


def _control(pid: int, *commands: list[str]) -> None:
    """Run ``callgrind_control COMMAND PID`` for each command (``["-z"]``, ``["-i", "on"]`` ...)."""
    import subprocess

    for command in commands:
        subprocess.run(["callgrind_control", *command, str(pid)], capture_output=True, check=True)


def _thread_totals(out: str, pid: int) -> list[tuple[int, int]]:
    """``(thread number, instructions)`` of each thread of ``pid`` callgrind dumped in ``out``, in order."""
    import glob
    import subprocess

    totals = []
    for path in glob.glob(f"{out}/cg.{pid}.1-*"):
        annotated = subprocess.run(["callgrind_annotate", path], capture_output=True, text=True, check=True).stdout
        found = [line for line in annotated.splitlines() if line.endswith("PROGRAM TOTALS")]
        totals.append((int(path.rsplit("-", 1)[1]), int(found[0].split()[0].replace(",", "")) if found else 0))
    return sorted(totals)


def callgrind_worker(variant: str, requests: int, log_format: str, workdir: str, layout: int = 0) -> dict[str, int]:
    """CPU instructions per request of a gunicorn sync worker of ``wsgihub serve --workers 1``.

    The worker (forked from the master under valgrind) is counted, every thread
    of it: ``"request"`` is its main thread, which serves the requests, each
    on a connection of its own (the sync worker closes it); ``"flush"`` its
    other threads, the access log's writer above all (its once-a-second
    batches: ~50 times smaller under valgrind than in a server, and a line
    costs more in a small batch) and the worker's bus.  The master is left out.
    """
    import signal
    import subprocess

    out, valgrind, prelude = _callgrind(workdir, f"cg-gunicorn-{variant}", layout)
    server, port, sock, log_file = _start_server(variant, log_format, workdir, valgrind, prelude, None, "gunicorn")
    sock.close()
    with_log = variant.startswith("log")

    def children(pid: int) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
        return [int(child) for child in found.split()]

    try:
        _get_closed(port)  # answered: the worker is up
        # the worker: the one process under the server with no children of its own
        leaves, todo = [], [server.pid]
        while todo:
            pid = todo.pop()
            below = children(pid)
            todo += below
            if not below and pid != server.pid:
                leaves.append(pid)
        if len(leaves) != 1:
            raise RuntimeError(f"expected one gunicorn worker under {server.pid}, found {leaves}")
        worker = leaves[0]
        for _ in range(_WARM_UP):
            _get_closed(port)
        if with_log:
            _wait_for_lines(log_file, _WARM_UP)
        time.sleep(1.5)
        _control(worker, ["-z"], ["-i", "on"])
        for _ in range(requests):
            _get_closed(port)
        if with_log:
            _wait_for_lines(log_file, _WARM_UP + requests)
        time.sleep(1.5)
        _control(worker, ["-i", "off"], ["--dump=measured"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(120)
    counts = {"request": 0, "flush": 0}
    for thread, total in _thread_totals(out, worker):
        counts["request" if thread == 1 else "flush"] += round(total / requests)
    counts["total"] = counts["request"] + counts["flush"]
    return counts


def callgrind_server(variant: str, requests: int, log_format: str, workdir: str, layout: int = 0) -> dict[str, int]:
    """CPU instructions of a ``wsgihub serve`` process (waitress, 1 thread) per request, by thread.

    The server runs under ``valgrind --tool=callgrind`` with instrumentation
    off; after 300 warm-up requests (and a second for the writer thread to
    write theirs) it is switched on with ``callgrind_control``, ``requests``
    requests are sent one after the other on one kept-alive connection, the
    writer is given 2.5 s to write their lines, and the counts are dumped.
    Returns instructions per request by thread (``1`` is the main thread,
    the others in the order they started: waitress's worker, its socket
    loop, then the access log's writer), and ``"total"``.

    With the access log, the writer thread waits and the measured requests'
    lines are written in one batch by a thread started for it after the
    requests (see ``_FLUSH_ON_SIGNAL``; the warm-up's lines are written
    before counting starts): its instructions, per line, are ``"flush"``,
    counted in ``"total"``; the request's threads are ``"request"`` (all
    but the main thread and the flush).
    """
    out, valgrind, prelude = _callgrind(workdir, f"cg-{variant}", layout)
    with_log = variant.startswith("log")
    pid = _measure(
        _start_server(variant, log_format, workdir, valgrind, prelude),
        requests,
        with_log,
        start=lambda pid: _control(pid, ["-z"], ["-i", "on"]),
        stop=lambda pid: _control(pid, ["-i", "off"], ["--dump=measured"]),
    )
    totals = _thread_totals(out, pid)
    counts = {str(thread): round(total / requests) for thread, total in totals}
    if with_log and len(totals) > 1:
        # the last thread started is the measured requests' final flush (the warm-up's came before)
        counts["flush"] = counts.pop(str(totals[-1][0]))
    counts["total"] = sum(counts.values())
    counts["request"] = counts["total"] - counts["1"] - counts.get("flush", 0)
    return counts


# -- --opcodes: the Python bytecodes a request runs, by function --------------------------------
#: Counts the bytecodes run in every thread started after it (waitress's, the writer's), by
#: ``file:function``, while switched on; SIGRTMIN+1 switches, SIGRTMIN+2 writes the counts to
#: the file in ``WSGIHUB_BENCH_OPCODES`` (JSON).
_COUNT_OPCODES = (
    "import collections, json, os, signal, threading\n"
    "_counts = collections.Counter(); _on = [False]\n"
    "def _trace(frame, event, arg):\n"
    "    frame.f_trace_opcodes = True; frame.f_trace_lines = False\n"
    "    key = os.path.basename(frame.f_code.co_filename) + ':' + frame.f_code.co_name\n"
    "    def _opcode(frame, event, arg):\n"
    "        if event == 'opcode' and _on[0]: _counts[key] += 1\n"
    "        return _opcode\n"
    "    return _opcode\n"
    "threading.settrace(_trace)\n"
    "def _switch(*_): _on[0] = not _on[0]\n"
    "def _write(*_):\n"
    "    with open(os.environ['WSGIHUB_BENCH_OPCODES'], 'w') as out: json.dump(_counts, out)\n"
    "signal.signal(signal.SIGRTMIN + 1, _switch); signal.signal(signal.SIGRTMIN + 2, _write)\n"
)


def opcodes_server(variant: str, requests: int, log_format: str, workdir: str) -> dict[str, float]:
    """Python bytecodes a request of ``variant`` runs, by ``file:function``, and ``"total"``.

    ``wsgihub serve`` (waitress, 1 thread) runs with a tracer counting the
    bytecodes of waitress's threads and the access log's (``sys.settrace``
    with ``f_trace_opcodes``: each bytecode run is an event); after the
    warm-up, ``requests`` requests are counted, with their lines written
    in one batch as ``--callgrind`` does.  Unlike instructions, the counts
    do not move with the threads' timing, and they say which Python code a
    setup adds.
    """
    import signal

    counts_file = os.path.join(workdir, f"opcodes-{variant}.json")
    started = _start_server(variant, log_format, workdir, [], _COUNT_OPCODES, {"WSGIHUB_BENCH_OPCODES": counts_file})

    def stop(pid: int) -> None:
        os.kill(pid, signal.SIGRTMIN + 1)
        time.sleep(0.2)
        os.kill(pid, signal.SIGRTMIN + 2)
        deadline = time.monotonic() + 60
        while not os.path.exists(counts_file) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # written whole

    _measure(started, requests, variant.startswith("log"), start=lambda pid: os.kill(pid, signal.SIGRTMIN + 1), stop=stop)
    with open(counts_file, encoding="utf-8") as written:
        counts = {key: value / requests for key, value in json.load(written).items()}
    counts["total"] = sum(counts.values())
    return counts


def main_opcodes(requests: int, log_format: str, setups: list[str]) -> int:
    """``--opcodes``: bytecodes per request of each setup, and the functions that add them."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="wsgihub-accesslog-op-") as workdir:
        for variant in ["off", *[name for name in setups if name != "off"]]:
            results[variant] = opcodes_server(variant, requests, log_format, workdir)
    base = results["off"]["total"]
    print(
        f"wsgihub serve (waitress, 1 thread), {requests} requests on one connection, {log_format} lines; "
        "Python bytecodes run per request (waitress's threads and the access log's writer)"
    )
    previous = "off"
    for variant, counts in results.items():
        total = counts["total"]
        print(f"{variant:10} {total:9.1f} {total - base:+9.1f} {(total - base) / base:+7.1%}")
        if variant != "off":
            before = results[previous]
            added = {key: counts.get(key, 0.0) - before.get(key, 0.0) for key in {*counts, *before} - {"total"}}
            for key, value in sorted(added.items(), key=lambda item: -abs(item[1]))[:8]:
                if abs(value) >= 0.5:
                    print(f"{'':10} {value:+9.1f}  {key} (against {previous})")
        previous = variant
    return 0


def main_callgrind(
    requests: int,
    log_format: str,
    setups: list[str],
    keep: str | None = None,
    layouts: int = 1,
    server_name: str = "waitress",
) -> int:
    """``--callgrind``: instructions per request of the whole server, for each setup (``off`` first).

    ``keep``: a folder to leave callgrind's files in (``cg-SETUP[-LAYOUT]/cg.PID.1-THREAD``,
    for ``callgrind_annotate``), instead of a temporary one.  ``layouts`` > 1: each setup
    runs once per layout (see ``_LAYOUT``), the setups taking turns, and the table shows
    each setup's median over them with its range.
    """
    runs: dict[str, list[dict[str, int]]] = {}
    if keep is not None:
        os.makedirs(keep, exist_ok=True)
    with contextlib.nullcontext(keep) if keep else tempfile.TemporaryDirectory(prefix="wsgihub-accesslog-cg-") as workdir:
        for layout in range(layouts):
            for variant in ["off", *[name for name in setups if name != "off"]]:
                measure = callgrind_worker if server_name == "gunicorn" else callgrind_server
                counts = measure(variant, requests, log_format, workdir, layout)
                runs.setdefault(variant, []).append(counts)
                print(f"{variant} (layout {layout}): {counts}", file=sys.stderr, flush=True)

    def served(counts: dict[str, int]) -> int:
        # the main thread follows the wall clock (its loop waits on timeouts), not the requests
        return counts["request"] + counts.get("flush", 0)

    def median(values: list[int]) -> int:
        return round(statistics.median(values))

    base = median([served(counts) for counts in runs["off"]])
    if server_name == "gunicorn":
        what = (
            f"wsgihub serve --workers 1 (gunicorn, sync) under callgrind, {requests} requests, each on a new "
            f"connection, {log_format} lines; CPU instructions per request of the worker, every thread "
            "(request: its main thread; flush: the others, the access log's writer in once-a-second batches)"
        )
    else:
        what = (
            f"wsgihub serve (waitress, 1 thread) under callgrind, {requests} requests on one connection, "
            f"{log_format} lines; CPU instructions per request, every thread but the main one "
            f"(request: waitress's threads; flush: the access log's lines, {requests} in one batch)"
        )
    print(what + (f"; medians over {layouts} layouts" if layouts > 1 else ""))
    print(f"{'setup':10} {'served':>9} {'vs off':>9} {'share':>7} {'request':>9} {'flush':>7}   {'range' if layouts > 1 else 'by thread'}")
    for variant, counted in runs.items():
        total = median([served(counts) for counts in counted])
        request = median([counts["request"] for counts in counted])
        flush = median([counts.get("flush", 0) for counts in counted])
        if layouts > 1:
            totals = [served(counts) for counts in counted]
            detail = f"{min(totals)}-{max(totals)}: " + ", ".join(str(value) for value in totals)
        else:
            detail = ", ".join(f"{key}: {value}" for key, value in counted[0].items() if key not in ("total", "request"))
        print(
            f"{variant:10} {total:9d} {total - base:+9d} {(total - base) / base:+7.1%} "
            f"{request:9d} {flush:7d}   {detail}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per setup (default 600)")
    parser.add_argument("--hot", action="store_true", help="keep the caches warm (a loop, not a server)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count the CPU instructions of a whole wsgihub serve process (waitress) per request instead",
    )
    parser.add_argument(
        "--opcodes",
        action="store_true",
        help="count the Python bytecodes a whole wsgihub serve process (waitress) runs per request, by function",
    )
    parser.add_argument(
        "--setups",
        default=",".join(SERVE_VARIANTS),
        help=(
            f"with --callgrind or --opcodes: which setups, comma-separated "
            f"(default {','.join(SERVE_VARIANTS)}; off always runs)"
        ),
    )
    parser.add_argument("--keep", metavar="DIR", help="with --callgrind: leave callgrind's files in DIR")
    parser.add_argument(
        "--server",
        choices=tuple(SERVERS),
        default="waitress",
        help="with --callgrind: the server (gunicorn: one sync worker, setups off, ids and log; default waitress)",
    )
    parser.add_argument(
        "--layouts",
        type=int,
        default=1,
        help="with --callgrind: run each setup in this many memory layouts and report the medians (default 1)",
    )
    args = parser.parse_args(argv)
    if args.callgrind or args.opcodes:
        setups = [name for name in args.setups.split(",") if name]
        unknown = [name for name in setups if name not in SERVE_VARIANTS]
        if unknown:
            parser.error(f"--setups: unknown {', '.join(unknown)} (known: {', '.join(SERVE_VARIANTS)})")
        if args.server == "gunicorn":
            if args.opcodes:
                parser.error("--server gunicorn: with --callgrind only")
            layered = [name for name in setups if name.endswith("-layers")]
            if layered:
                parser.error(f"--server gunicorn: {', '.join(layered)} are waitress's (gunicorn runs the layers)")
        if args.opcodes:
            return main_opcodes(args.requests, args.log_format, setups)
        return main_callgrind(args.requests, args.log_format, setups, args.keep, args.layouts, args.server)

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
