"""Helpers of the third-party tests: a ``wsgihub serve`` subprocess, an HTTP client, page assets.

:class:`Served` runs ``wsgihub serve SITE --port 0`` as a user would (the
console script, in the project's directory) and reads the port from its
``Serving on http://127.0.0.1:PORT`` line: no sleeping, the test waits for
that line.  :class:`Client` is a ``requests`` session on that server that
never follows redirects (the tests look at every ``Location``).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

__all__ = [
    "Client",
    "Served",
    "assets",
    "console_script",
    "form_fields",
    "run",
]

SERVING = re.compile(r"Serving on (http://127\.0\.0\.1:(\d+))")
START_TIMEOUT = 60.0


def console_script(name: str) -> str:
    """The path of console script ``name`` of this Python's environment (``wsgihub``, ``wagtail``)."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        raise AssertionError(f"{name} is not installed beside {sys.executable}")
    return str(path)


def run(
    args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a command as a user would type it; a failure shows its output."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        list(args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return done


class Served:
    """``wsgihub serve SITE --port 0`` in a subprocess; its output is drained by a thread and kept."""

    def __init__(self, site: str, cwd: Path, env: Mapping[str, str], *args: str) -> None:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **env)
        full_env.pop("DJANGO_SETTINGS_MODULE", None)
        self.command = [console_script("wsgihub"), "serve", site, "--port", "0", *args]
        self.proc = subprocess.Popen(
            self.command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=full_env,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        self.url = self._wait_for_url()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                self.stop()
                raise AssertionError(
                    f"{' '.join(self.command)}: no 'Serving on' line in {START_TIMEOUT}s:\n"
                    + "".join(self.output)
                ) from None
            if line is None:
                self.stop()
                raise AssertionError(
                    f"{' '.join(self.command)} exited ({self.proc.returncode}):\n"
                    + "".join(self.output)
                )
            match = SERVING.search(line)
            if match:
                return match.group(1)

    def next_url(self) -> str:
        """Wait for the next ``Serving on`` line (a ``--reload`` restart) and use its URL."""
        self.url = self._wait_for_url()
        return self.url

    def stop(self) -> int | None:
        """SIGTERM, wait for the exit (a hung server is killed), return the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._drainer.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def client(self) -> Client:
        """A fresh HTTP client (its own cookies) on this server."""
        return Client(self)

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Add the server's output to any failure inside the block."""
        try:
            yield
        except Exception as exc:
            # Give the server's own log line about the failure a moment to arrive.
            time.sleep(0.2)
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\nserver output:\n{''.join(self.output)[-6000:]}"
            ) from exc


class Client:
    """A browser-like session on a :class:`Served` site: cookies kept, redirects never followed."""

    def __init__(self, served: Served) -> None:
        import requests

        self.served = served
        self.session = requests.Session()
        #: Asset paths already fetched with a 200 (pages share most of their assets).
        self.fetched: set[str] = set()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: Mapping[str, str], **kwargs: Any) -> Any:
        return self.request("POST", path, data=dict(data), **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, urljoin(self.served.url, path), **kwargs)

    def follow(self, path: str, limit: int = 5) -> tuple[Any, list[str]]:
        """GET ``path`` and follow redirects inside the site: (final response, Locations seen)."""
        seen: list[str] = []
        response = self.get(path)
        while response.is_redirect and len(seen) < limit:
            location = response.headers["Location"]
            seen.append(location)
            response = self.get(urljoin(response.url, location))
        return response, seen

    def log_in(self, login_path: str, username: str, password: str) -> Any:
        """Log in through a Django login form (CSRF token from the form); the POST's response."""
        page = self.get(login_path)
        assert page.status_code == 200, (login_path, page.status_code)
        fields = form_fields(page.text)
        fields.update(username=username, password=password)
        return self.post(login_path, fields, headers={"Referer": page.url})


class _Page(HTMLParser):
    """Assets (``<link href>``, ``<script src>``, ``<img src>``) and form fields of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[str] = []
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower().split()
            if not {"canonical", "alternate", "manifest", "dns-prefetch"} & set(rel):
                self.assets.append(a["href"] or "")
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"] or "")
        elif tag == "input" and a.get("name") and a.get("type") in ("hidden", None, "text"):
            self.fields[a["name"] or ""] = a.get("value") or ""


def assets(html: str, base_url: str) -> list[str]:
    """The site-local assets ``html`` references, as paths (query kept), each once, in order."""
    page = _Page()
    page.feed(html)
    base = urlsplit(base_url)
    found: list[str] = []
    for ref in page.assets:
        if ref.startswith(("data:", "blob:", "javascript:")):
            continue
        parts = urlsplit(urljoin(base_url, ref))
        if parts.netloc != base.netloc:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in found:
            found.append(path)
    return found


def form_fields(html: str) -> dict[str, str]:
    """The named hidden and text inputs of a page (``csrfmiddlewaretoken``, ``next``...)."""
    page = _Page()
    page.feed(html)
    return dict(page.fields)
