"""Past one process (issue 11 §9): a real haproxy in front of two ``wsgihub serve`` processes.

The test starts, on loopback, two ``wsgihub serve`` processes (port 0 each,
``--health-path /healthz --drain-delay``) and Debian's haproxy in front of
them (config written to a temporary directory: active health checks on the
health path, ``option forwardfor``, ``X-Forwarded-Proto: https`` as a
TLS-terminating proxy sets it, connections to the backends from
127.0.0.2 so that only haproxy is in ``--forwarded-allow-ips``).  While
client threads send requests through haproxy without a pause, it restarts
the processes one at a time, gracefully: SIGTERM -> the health path answers
503 while the process still serves -> haproxy's checks take it out of
rotation -> the process drains and exits -> a new process on the same port
-> haproxy's checks put it back.  Every response must be a 200 from one of
the processes, each link the hub built must carry the public scheme and
host (``https://public.example/...``), and the client address must be the
client's, not haproxy's or a spoofed one.

haproxy comes from Debian (``apt-get install haproxy``; scripts/test.sh does
it when run as root); without it the test is skipped with that reason.
Waiting is on events: a process's ``Serving on`` line, haproxy's own view of
each server through its runtime API (``show stat`` on the stats socket).
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Self

import pytest
import requests

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess

HAPROXY = shutil.which("haproxy") or next(
    (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).is_file()), None
)

needs_haproxy = pytest.mark.skipif(
    HAPROXY is None,
    reason="haproxy is not installed: the load-balancer test needs Debian's haproxy "
    "(apt-get install haproxy; scripts/test.sh installs it when run as root)",
)

#: haproxy connects to the backends from this address: the only trusted proxy.
HAPROXY_SOURCE = "127.0.0.2"
#: Seconds a stopping process keeps serving with health 503 (haproxy needs fall * inter).
DRAIN_DELAY = 2.0

HAPROXY_CONFIG = """\
global
    stats socket {socket} mode 600 level admin
    maxconn 200

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    # a request whose connection could not be made is sent to another server
    # (nothing was sent: safe for any method); no other retries, so a request
    # cut short by a process going away would show as a 502
    retries 3
    option redispatch 1

frontend public
    bind 127.0.0.1:{port}
    # as a TLS-terminating proxy says where the request came from
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    http-request del-header Forwarded
    http-request del-header X-Forwarded-Host
    http-request del-header X-Forwarded-Prefix
    default_backend hubs

backend hubs
    balance roundrobin
    source {source}
    option httpchk
    http-check send meth GET uri /healthz
    http-check expect status 200
    default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2
{servers}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HAProxy:
    """haproxy in the foreground with a config written to ``directory``; ``state()`` via its socket."""

    def __init__(self, directory: Path, backends: dict[str, int]) -> None:
        self.socket = directory / "haproxy.sock"
        self.port = _free_port()
        servers = "\n".join(f"    server {name} 127.0.0.1:{port} check" for name, port in backends.items())
        self.config = directory / "haproxy.cfg"
        self.config.write_text(
            HAPROXY_CONFIG.format(socket=self.socket, port=self.port, source=HAPROXY_SOURCE, servers=servers)
        )
        check = subprocess.run([str(HAPROXY), "-c", "-f", str(self.config)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        self.proc = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self, line: str) -> str:
        """One runtime-API command on the stats socket; its answer."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def state(self) -> dict[str, str]:
        """``{server: status}`` of the backend as haproxy sees it (``UP``, ``DOWN``, ``UP 1/2`` ...)."""
        text = self.command("show stat").lstrip("# ")
        return {
            row["svname"]: row["status"]
            for row in csv.DictReader(text.splitlines())
            if row.get("pxname") == "hubs" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_for(self, server: str, status: str, timeout: float = 20.0) -> None:
        """Until haproxy's checks say ``server`` is ``status`` (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"haproxy exited ({self.proc.returncode}): {self.proc.stdout.read() if self.proc.stdout else ''}")
            try:
                seen = self.state().get(server)
            except OSError:  # the socket is not there yet
                seen = None
            if seen == status:
                return
            time.sleep(0.05)  # polling haproxy's own state: each answer is the event
        raise AssertionError(f"haproxy: server {server} is {seen!r}, not {status!r}, after {timeout} s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _serve(server_args: list[str], port: int = 0) -> ServeProcess:
    return ServeProcess(
        [
            "live_apps.proxied:site",
            "--port", str(port),
            "--health-path", "/healthz",
            "--drain-delay", str(DRAIN_DELAY),
            "--drain-timeout", "10",
            "--forwarded-allow-ips", HAPROXY_SOURCE,
            *server_args,
        ]
    )


class Clients:
    """Threads sending requests through haproxy without a pause; every answer recorded.

    ``threads`` loops GET a page; one more POSTs to ``/slow/`` (half a second
    each, not idempotent: haproxy never retries it), so a process going away
    always has requests in flight.
    """

    def __init__(self, url: str, threads: int = 2) -> None:
        self.url = url
        self.answers: list[tuple[int | str, dict[str, Any] | None]] = []
        self.slow: list[int | str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]
        self._threads.append(threading.Thread(target=self._slow_loop, daemon=True))

    def _slow_loop(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                response = session.post(self.url + "/slow/?seconds=0.5", data=b"x", timeout=30)
                answer: int | str = response.status_code
            except requests.RequestException as exc:
                answer = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.slow.append(answer)

    def _loop(self) -> None:
        session = requests.Session()  # kept-alive connections to haproxy, as browsers do
        headers = {
            "Host": "public.example",
            # a client's attempts to pass for someone else, or to change the link
            "X-Forwarded-For": "203.0.113.66",
            "Forwarded": "for=203.0.113.66;proto=http;host=evil.example",
            "X-Forwarded-Host": "evil.example",
        }
        while not self._stop.is_set():
            try:
                response = session.get(self.url + "/app/pages/3", headers=headers, timeout=30)
                report = json.loads(response.text.split(" ", 2)[2]) if response.status_code == 200 else None
                answer: tuple[int | str, dict[str, Any] | None] = (response.status_code, report)
            except (requests.RequestException, ValueError, IndexError) as exc:
                answer = (f"{type(exc).__name__}: {exc}", None)
            with self._lock:
                self.answers.append(answer)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def count(self) -> int:
        with self._lock:
            return len(self.answers)

    def wait_for_more(self, n: int, timeout: float = 20.0) -> None:
        """Until ``n`` more answers arrived (the loop is really running)."""
        target = self.count() + n
        deadline = time.monotonic() + timeout
        while self.count() < target:
            assert time.monotonic() < deadline, f"only {self.count()} answers"
            time.sleep(0.01)


@pytest.mark.live
@needs_haproxy
@pytest.mark.parametrize(
    ("server_args", "how"),
    [(["--threads", "4"], "restart"), (["--workers", "2"], "restart"), (["--threads", "4"], "sighup")],
    ids=["waitress", "gunicorn", "waitress-sighup"],
)
def test_rolling_restart_behind_haproxy_loses_no_request(server_args: list[str], how: str, tmp_path: Path) -> None:
    """``restart``: SIGTERM, wait for the exit, a new process on the same port (a deploy);
    ``sighup``: what systemd's ExecReload sends a waitress process detached from a
    terminal: it drains and re-executes itself, same PID and port."""
    # SIGHUP re-executes with the same arguments: those need a fixed port
    processes = {name: _serve(server_args, _free_port() if how == "sighup" else 0) for name in ("a", "b")}
    haproxy: HAProxy | None = None
    try:
        ports = {name: int(p.url().rsplit(":", 1)[1]) for name, p in processes.items()}
        haproxy = HAProxy(tmp_path, ports)
        for name in processes:
            haproxy.wait_for(name, "UP")
        with Clients(haproxy.url) as clients:
            clients.wait_for_more(50)
            for name in list(processes):
                old = processes[name]
                if how == "sighup":
                    old.signal(signal.SIGHUP)
                    haproxy.wait_for(name, "DOWN")  # health 503 during the drain delay took it out
                    old.url(timeout=30)  # the re-executed process serves again
                    assert old.proc.poll() is None
                else:
                    old.signal(signal.SIGTERM)  # what systemd / a supervisor sends
                    haproxy.wait_for(name, "DOWN")  # health 503 took it out; it still serves meanwhile
                    assert old.wait(timeout=30) == 0  # drained and gone
                    processes[name] = _serve(server_args, ports[name])  # the new code, same port
                    processes[name].url()
                haproxy.wait_for(name, "UP")
                clients.wait_for_more(50)
        answers = list(clients.answers)
        failures = Counter(str(code) for code, _ in answers if code != 200)
        assert not failures, f"{sum(failures.values())} of {len(answers)} requests failed: {dict(failures)}"
        slow_failures = Counter(str(code) for code in clients.slow if code != 200)
        assert not slow_failures, f"{sum(slow_failures.values())} of {len(clients.slow)} slow POSTs failed: {dict(slow_failures)}"
        assert len(clients.slow) >= 10
        reports = [report for _, report in answers if report is not None]
        assert len(reports) >= 200
        # behind the proxy: the public scheme and host, the client's own address
        assert {r["link"] for r in reports} == {"https://public.example/app/pages/1"}
        assert {(r["scheme"], r["host"], r["remote_addr"], r["peer"]) for r in reports} == {
            ("https", "public.example", "127.0.0.1", HAPROXY_SOURCE)
        }
        # the traffic moved: old and new processes (or workers) all answered
        served_by = Counter(r["pid"] for r in reports)
        assert len(served_by) >= (2 if how == "sighup" else 4), served_by
    finally:
        if haproxy is not None:
            haproxy.stop()
        for process in processes.values():
            process.kill()


# -- the production setup in docs/deployment.md is what it says ----------------------------------
DEPLOYMENT = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"


def _fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DEPLOYMENT.read_text(), re.DOTALL)


@needs_haproxy
def test_the_documented_haproxy_configuration_is_valid(tmp_path: Path) -> None:
    (config,) = [block for block in _fenced("haproxy") if block.startswith("global")]
    assert "http-check send meth GET uri /healthz" in config and "option forwardfor" in config
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    check = subprocess.run([str(HAPROXY), "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def _documented_commands() -> list[list[str]]:
    """The ``wsgihub serve`` command lines of the systemd unit and the container file."""
    (unit,) = [block for block in _fenced("ini") if "ExecStart=" in block and "[Service]" in block]
    env = dict(re.findall(r"^Environment=(\w+)=(\S+)$", unit, re.MULTILINE))
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    assert exec_start is not None
    (containerfile,) = [block for block in _fenced("dockerfile") if "CMD [" in block]
    cmd = re.search(r"^CMD (\[.*\])$", containerfile, re.MULTILINE)
    assert cmd is not None
    commands = [shlex.split(exec_start.group(1).replace("%i", "1")), json.loads(cmd.group(1))]
    assert env.get("WSGIHUB_FORWARDED_ALLOW_IPS")
    return commands


def test_the_documented_serve_commands_are_valid(tmp_path: Path) -> None:
    """Every option of the unit's ExecStart and the container's CMD parses and checks out."""
    (tmp_path / "site.ini").write_text("[composite:main]\nuse = egg:wsgihub#hub\n")
    for command in _documented_commands():
        assert Path(command[0]).name == "wsgihub" and command[1:3] == ["serve", "site.ini"], command
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from wsgihub.cli import main; sys.exit(main())", *command[1:], "--print-config"],
            cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
        )
        assert result.returncode == 0, (command, result.stderr)
        assert re.search(r"^health_path\s+/healthz\s+command line$", result.stdout, re.MULTILINE), result.stdout


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light): its snippet is not checked")
def test_the_documented_nginx_configuration_is_valid(tmp_path: Path) -> None:
    """``nginx -t`` on the production snippet (TLS left out: no certificate here)."""
    (block,) = [block for block in _fenced("nginx") if block.startswith("upstream hubs")]
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in block
    assert "listen 443 ssl;" in block
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\nhttp {{\n"
        + block.replace("listen 443 ssl;", "listen 127.0.0.1:8443;")
        + "}\n"
    )
    check = subprocess.run([str(NGINX), "-t", "-c", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
