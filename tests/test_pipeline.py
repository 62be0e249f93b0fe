"""The pipeline descriptor (``site.wsgi``): real factories, real files, a real #! run."""

from __future__ import annotations

import importlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest
from wsgi_helpers import call

import wsgihub
import wsgihub.deploy
from wsgihub import pipeline
from wsgihub.errors import DeployError
from wsgihub.pipeline import parse_deployment, read_descriptor

#: The module of factories the descriptors below name (written into tmp_path).
PARTS = "wsgihub_test_pipeline_parts"

PARTS_SOURCE = '''
"""Factories for the pipeline tests: a plain app and two kinds of middleware."""

CALLS = []


def make_app(greeting="hello", punctuation="!"):
    CALLS.append(("make_app", {"greeting": greeting, "punctuation": punctuation}))

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        text = f"{greeting}{punctuation} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}"
        return [text.encode()]

    return app


class Tag:
    """Middleware: wraps the body in <name>...</name>."""

    def __init__(self, app, name, **extra):
        CALLS.append(("Tag", {"name": name, **extra}))
        self.app = app
        self.name = name

    def __call__(self, environ, start_response):
        body = b"".join(self.app(environ, start_response))
        return [f"<{self.name}>".encode() + body + f"</{self.name}>".encode()]


def make_upper(app):
    """Middleware without options: upper-cases the body."""

    def upper(environ, start_response):
        return [b"".join(app(environ, start_response)).upper()]

    return upper


def paste_app(global_conf, greeting="hello"):
    CALLS.append(("paste_app", dict(global_conf)))
    return make_app(greeting=greeting)


def paste_filter_app(app, global_conf, name):
    CALLS.append(("paste_filter_app", dict(global_conf)))
    return Tag(app, name)


def paste_filter(global_conf):
    CALLS.append(("paste_filter", dict(global_conf)))
    return make_upper


def exploding(reason):
    raise RuntimeError(reason)


def not_an_app():
    return 42


NOT_CALLABLE = "just a string"
'''

DIST_INFO = "wsgihub_test_pipe-1.0.dist-info"
DIST_ENTRY_POINTS = f"""\
[paste.app_factory]
main = {PARTS}:paste_app

[paste.filter_app_factory]
tag = {PARTS}:paste_filter_app

[paste.filter_factory]
upper = {PARTS}:paste_filter

[wsgihub_test.pipeline]
plain = {PARTS}:make_app
tag = {PARTS}:Tag
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` on ``sys.path`` with the parts module and a distribution offering them."""
    (tmp_path / f"{PARTS}.py").write_text(PARTS_SOURCE)
    dist = tmp_path / DIST_INFO
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wsgihub-test-pipe\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(DIST_ENTRY_POINTS)
    monkeypatch.delitem(sys.modules, PARTS, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(PARTS, None)


def parts() -> ModuleType:
    """The parts module as the descriptors imported it."""
    return sys.modules[PARTS]


def write(directory: Path, text: str, name: str = "site.wsgi") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


# -- building --------------------------------------------------------------------------
def test_middleware_first_application_last(site: Path) -> None:
    """The first section is the outermost layer; keys are keyword arguments."""
    path = write(
        site,
        f"""
        [{PARTS}:Tag]
        name = outer

        [{PARTS}:Tag]
        name = inner

        [{PARTS}:make_app]
        greeting = hi
        punctuation = ?
        """,
    )
    app = parse_deployment(path)
    assert call(app, "/x").text == "<outer><inner>hi? |/x</inner></outer>"
    # built bottom-up: the application first, then each middleware around it
    assert [name for name, _ in parts().CALLS] == ["make_app", "Tag", "Tag"]
    assert parts().CALLS[0][1] == {"greeting": "hi", "punctuation": "?"}


def test_values_are_strings_as_written(site: Path) -> None:
    """No conversion: numbers and booleans arrive as stripped strings."""
    path = write(
        site,
        f"""
        [{PARTS}:Tag]
        name = t
        level =   6
        debug = true
        Mixed_Case = Kept

        [{PARTS}:make_app]
        """,
    )
    parse_deployment(path)
    assert parts().CALLS[-1] == ("Tag", {"name": "t", "level": "6", "debug": "true", "Mixed_Case": "Kept"})


def test_syntax_comments_continuations_colon_here(site: Path) -> None:
    """Comments, ``key: value``, indented continuation lines and ``%(here)s``."""
    path = write(
        site,
        f"""
        #!/usr/bin/env -S python -m wsgihub.pipeline
        ; a comment
        # another
        [{PARTS}:make_app]
        greeting: line one
            line two
        punctuation = %(here)s|%(__file__)s
        """,
    )
    app = parse_deployment(path)
    assert parts().CALLS[-1][1] == {
        "greeting": "line one\nline two",
        "punctuation": f"{site}|{path}",
    }
    assert call(app).code == 200


def test_dotted_header_form(site: Path) -> None:
    """The proposal's ``[package.module.factory]`` form finds the module part."""
    path = write(site, f"[{PARTS}.make_upper]\n[{PARTS}.make_app]\ngreeting = quiet\n")
    assert call(parse_deployment(path)).text == "QUIET! |/"


def test_egg_headers_use_pastedeploy_conventions(site: Path) -> None:
    """``egg:DIST#NAME`` finds paste.app_factory / filter_app_factory / filter_factory."""
    path = write(
        site,
        """
        [egg:wsgihub-test-pipe#upper]
        [egg:wsgihub-test-pipe#tag]
        name = b
        [egg:wsgihub-test-pipe]
        greeting = from egg
        """,
    )
    app = parse_deployment(path)
    assert call(app).text == "<B>FROM EGG! |/</B>"
    conventions = [name for name, _ in parts().CALLS if name.startswith("paste")]
    assert conventions == ["paste_app", "paste_filter_app", "paste_filter"]
    global_conf = parts().CALLS[0][1]
    assert global_conf == {"__file__": str(path), "here": str(site)}


def test_entry_headers_use_the_plain_convention(site: Path) -> None:
    """``entry:GROUP:NAME`` in a non-paste group is called like a dotted path."""
    path = write(
        site,
        """
        [entry:wsgihub_test.pipeline:tag]
        name = e
        [entry:wsgihub_test.pipeline:plain]
        greeting = entry
        """,
    )
    assert call(parse_deployment(path)).text == "<e>entry! |/</e>"


def test_parse_deployment_is_exported_by_deploy(site: Path) -> None:
    """``wsgihub.deploy.parse_deployment`` is this function, and takes a str path too."""
    assert wsgihub.deploy.parse_deployment is parse_deployment
    path = write(site, f"[{PARTS}:make_app]\n")
    assert call(wsgihub.deploy.parse_deployment(str(path))).text == "hello! |/"


def test_load_gives_a_hub_serving_the_pipeline(site: Path) -> None:
    """``wsgihub.load("site.wsgi")`` mounts the pipeline at ``/``."""
    path = write(site, f"[{PARTS}:Tag]\nname = hub\n[{PARTS}:make_app]\n")
    hub = wsgihub.load(str(path))
    assert isinstance(hub, wsgihub.Hub)
    assert [(p.name, p.prefix) for p in hub.pegs()] == [("root", "")]
    assert call(hub, "/deep/path").text == "<hub>hello! |/deep/path</hub>"


def test_read_descriptor_keeps_order_and_lines(site: Path) -> None:
    path = write(site, "#!x\n\n[a.b:c]\nk = v\n\n[d:e]\n")
    sections = read_descriptor(path)
    assert [(s.header, s.line, s.values, s.lines) for s in sections] == [
        ("a.b:c", 3, {"k": "v"}, {"k": 4}),
        ("d:e", 6, {}, {}),
    ]


# -- errors -------------------------------------------------------------------------------
ERRORS: list[tuple[str, str, list[str]]] = [
    # (descriptor, what the one-line message must contain besides the file name)
    (f"[{PARTS}:make_app]\ncolour = red\n", "unknown key", [f":2: [{PARTS}:make_app] key 'colour'", "greeting"]),
    (f"[{PARTS}:make_upper]\n[{PARTS}:make_app]\ngreting = y\n", "typo", [":3:", "key 'greting'", "did you mean 'greeting'"]),
    ("[no_such_module_xyz:factory]\n", "unimportable", ["[no_such_module_xyz:factory]", "no_such_module_xyz"]),
    (f"[{PARTS}:no_such_factory]\n", "missing attribute", [f"[{PARTS}:no_such_factory]", "no attribute"]),
    ("[not a path!]\n", "bad header", ["[not a path!]", "expected [package.module:factory]"]),
    ("[]\n", "empty header", [":1:", "bad section header"]),
    ("greeting = x\n[a:b]\n", "key before section", [":1:", "key 'greeting'", "before any [factory]"]),
    (f"[{PARTS}:make_app]\ngreeting = a\ngreeting = b\n", "duplicate key", [":3:", "given twice", "line 2"]),
    ("# only a comment\n", "no sections", ["no [factory] section"]),
    (f"[{PARTS}:make_app]\njust text\n", "no equals", [":2:", "expected 'key = value'"]),
    (f"[{PARTS}:make_app]\n[{PARTS}:make_upper]\n", "app as middleware", [f"[{PARTS}:make_upper]", "is it middleware?"]),
    (f"[{PARTS}:make_upper]\nshout = yes\n[{PARTS}:make_app]\n", "middleware kwarg", ["key 'shout'", "no keys"]),
    (f"[{PARTS}:exploding]\nreason = kaboom\n", "factory raises", ["RuntimeError: kaboom"]),
    (f"[{PARTS}:not_an_app]\n", "returns non-callable", ["returned 42"]),
    (f"[{PARTS}:NOT_CALLABLE]\n", "not callable", ["is not callable"]),
    ("[egg:no-such-dist-xyz#app]\n", "dist missing", ["[egg:no-such-dist-xyz#app]", "not installed"]),
    ("[egg:wsgihub-test-pipe#nope]\n", "egg name missing", ["no application factory 'nope'", "paste.app_factory"]),
    ("[egg:wsgihub-test-pipe#tag]\n", "egg filter as app", ["for the other role"]),
    ("[entry:wsgihub_test.pipeline:nope]\n", "entry missing", ["no installed entry point 'nope'"]),
    ("[entry:paste.filter_factory:upper]\n", "entry filter as app", ["is middleware"]),
]


@pytest.mark.parametrize(("text", "label", "expected"), ERRORS, ids=[e[1] for e in ERRORS])
def test_errors_are_one_line_naming_file_and_section(site: Path, text: str, label: str, expected: list[str]) -> None:
    path = write(site, text)
    with pytest.raises(DeployError) as info:
        parse_deployment(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path)) or f"{str(path)!r}" in message
    for part in expected:
        assert part in message, (part, message)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="does not exist"):
        parse_deployment(tmp_path / "absent.wsgi")


def test_load_of_a_bad_pipeline_is_a_deploy_error(site: Path) -> None:
    path = write(site, f"[{PARTS}:make_app]\ncolour = red\n")
    with pytest.raises(DeployError, match="key 'colour'"):
        wsgihub.load(str(path))


def _runner() -> ModuleType:
    """``wsgihub/pipeline/__main__.py``, the ``python -m wsgihub.pipeline`` runner."""
    return importlib.import_module("wsgihub.pipeline.__main__")


def test_runner_reports_a_bad_descriptor_in_one_line(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m wsgihub.pipeline BAD`` is ``wsgihub serve BAD``: exit 2, one line, no traceback."""
    path = write(site, f"[{PARTS}:make_app]\ncolour = red\n")
    assert _runner().main([str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("wsgihub: error: ") and "key 'colour'" in err
    with pytest.raises(DeployError):
        _runner().main([str(path), "--debug"])


def test_runner_checks_serve_options(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The runner is not a second server: ``--port 70000`` is refused as ``wsgihub serve`` refuses it."""
    path = write(site, f"[{PARTS}:make_app]\n")
    assert _runner().main([str(path), "--port", "70000"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("wsgihub: error: --port 70000"), captured.err


def test_runner_names_an_address_in_use(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(site, f"[{PARTS}:make_app]\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert _runner().main([str(path), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err and "address already in use" in err, err


# -- running through the #! line and python -m ---------------------------------------------------
def _wait_for_line(proc: subprocess.Popen[bytes], prefix: str, timeout: float) -> str:
    """The first stdout line of ``proc`` starting with ``prefix`` (waits on output, not on time)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.decode().startswith(prefix):
                    return line.decode()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise AssertionError(f"no line starting with {prefix!r} within {timeout}s")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"the runner exited before {prefix!r}: {proc.wait()}")
            buffer += chunk


@pytest.mark.live
@pytest.mark.skipif(sys.platform == "win32" or not os.path.exists("/usr/bin/env"), reason="needs #! and env -S")
@pytest.mark.parametrize("how", ["shebang", "python -m"])
def test_descriptor_is_served_by_wsgihub_serve(site: Path, how: str) -> None:
    """``./site.wsgi --port 0`` and ``python -m wsgihub.pipeline site.wsgi --port 0`` run ``wsgihub serve``:
    waitress answers, SIGTERM drains and stops with exit code 0.  The parts module is found
    because the current directory is on ``sys.path`` (no PYTHONPATH)."""
    path = write(
        site,
        f"""
        {pipeline.SHEBANG}
        [{PARTS}:Tag]
        name = live
        [{PARTS}:make_app]
        greeting = served
        """,
    )
    path.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    argv = [str(path)] if how == "shebang" else [sys.executable, "-m", "wsgihub.pipeline", path.name]
    proc = subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=site,
    )
    try:
        line = _wait_for_line(proc, "Serving on ", timeout=30)
        url = line.removeprefix("Serving on ").strip()
        assert url.startswith("http://127.0.0.1:"), line
        with urllib.request.urlopen(url + "/hello", timeout=10) as response:
            assert response.status == 200
            assert response.read() == b"<live>served! |/hello</live>"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:  # pragma: no cover - only on a hung server
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def test_shebang_line_is_documented() -> None:
    """The #! line the docs show is the one the module exports."""
    docs = (Path(__file__).parent.parent / "docs" / "deploy.md").read_text()
    assert pipeline.SHEBANG in docs
